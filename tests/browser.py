"""Shared by the browser tests (the `browser_page` fixture is in conftest)."""

import shutil

import pytest

from .conftest import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed"),
]


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("article button[type=submit]")
