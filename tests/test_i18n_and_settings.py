import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_pages_are_in_french_by_default(client, db):
    response = client.get(reverse("login"))
    assert '<html lang="fr">' in response.content.decode()
    assert "Mot de passe oublié ?" in response.content.decode()


def test_pages_are_in_english_when_asked(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    response = client.get(reverse("login"))
    assert '<html lang="en">' in response.content.decode()
    assert "Forgotten password?" in response.content.decode()


def test_browser_language_english_is_honoured(client, db):
    response = client.get(reverse("account_request"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Request a pro account" in response.content.decode()


@pytest.mark.slow
def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "DEBUG": "0",
        "HTTPS": "1",
        "ALLOWED_HOSTS": "portal.example.fr",
        "SECRET_KEY": "x" * 20 + "Production-Key-With-Enough-Entropy-0123456789",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_without_a_secret_key_production_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
