"""The checklist in Chromium: on a phone, an item ticked with a photo; printed, no form or menu."""

import re

import pytest
from django.db import connection

from accounts.models import User
from commissioning.models import Tick

from .browser import log_in, pytestmark  # noqa: F401 (the module's marks)
from .commissioning_steps import jpeg
from .conftest import make_plant, make_user


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_a_screen_item_is_ticked_with_a_photo_and_the_page_prints_clean(
    live_server, browser_page, company, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    make_user("paul", User.Role.INSTALLER, company)
    plant = make_plant(company, system_type="dc_backup")
    page, base = browser_page, live_server.url
    log_in(page, base, "paul")
    page.goto(f"{base}/plants/{plant.pk}/commission/finish/")

    photo = jpeg()
    page.click("#screen_eps summary")
    page.set_input_files(
        "#screen_eps input[type=file]",
        files=[{"name": "eps.jpg", "mimeType": "image/jpeg", "buffer": photo.read()}],
    )
    page.click("#screen_eps button:has-text('Fait')")
    assert "paul" in page.inner_text("#screen_eps")
    assert page.locator("#screen_eps img.tick-photo").count() == 1
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.emulate_media(media="print")
    assert page.locator("form").first.is_hidden() and page.locator("header.container").is_hidden()
    assert page.locator("#screen_eps").is_visible() and "Sortie de secours (EPS) activée" in page.inner_text(
        "main"
    )
    # On one sheet of A4.
    pages = re.findall(rb"/Type\s*/Page\b", page.pdf(format="A4"))
    assert len(pages) == 1, f"{len(pages)} pages"
    tick = Tick.objects.get()
    connection.close()  # the query ran in Playwright's thread: its connection must not outlive the test
    assert tick.item == "screen_eps" and tick.photo_id is not None
