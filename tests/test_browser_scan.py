"""Scanning the stick's code where the browser has no BarcodeDetector (Safari, Firefox, Chromium on
Linux): Chromium's fake camera films a QR code, the vendored ZXing decoder reads it, the SN lands in
the field and the form validates it like a typed one."""

import io
import shutil

import pytest
import segno
from django.db import connection
from PIL import Image
from playwright.sync_api import sync_playwright

from accounts.models import User
from devices.models import Datalogger

from .browser import log_in, pytestmark  # noqa: F401 (the module's marks)
from .conftest import PHONE, make_user

SERIAL = "2355551234"


def qr_video(path, text):
    """A still Y4M video (what Chromium's fake camera plays) of a QR code holding `text`."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    chroma = bytes([128]) * (320 * 240)
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            f.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)


@pytest.fixture
def camera_page(monkeypatch, tmp_path):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    video = tmp_path / "camera.y4m"
    # The stick's QR may carry more than the SN: the SN is extracted from it.
    qr_video(video, f"https://example.invalid/stick?type=LSW-3&sn={SERIAL}&v=1")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
                  "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"],
        )  # fmt: skip
        context = browser.new_context(viewport=PHONE, locale="fr-FR")
        context.add_init_script("delete window.BarcodeDetector;")  # as on an iPhone or in Firefox
        page = context.new_page()
        page.csp_violations = []
        page.on(
            "console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text)
        )
        yield page
        assert not page.csp_violations, page.csp_violations
        browser.close()


@pytest.mark.django_db(transaction=True)
def test_the_sn_is_scanned_without_barcodedetector(live_server, camera_page, company, plant):
    make_user("paul", User.Role.INSTALLER, company)
    page, base = camera_page, live_server.url
    log_in(page, base, "paul")
    page.goto(f"{base}/plants/{plant.pk}/commission/datalogger/")
    page.click("[data-scan-button]")
    page.wait_for_function(
        f"() => document.querySelector('[data-scan-target]').value === '{SERIAL}'", timeout=20000
    )
    assert SERIAL in page.inner_text("[data-scan-message]")
    page.click("main form button:has-text('Ajouter l')")
    page.wait_for_load_state()
    assert Datalogger.objects.filter(plant=plant, serial_number=SERIAL).exists()
    connection.close()  # queried under Playwright's loop: a connection of its own, closed here


@pytest.mark.django_db(transaction=True)
def test_a_refused_camera_is_explained_and_typing_still_works(live_server, browser_page, company, plant):
    make_user("paul", User.Role.INSTALLER, company)
    page, base = browser_page, live_server.url  # no fake camera here, and no permission given
    page.context.add_init_script("delete window.BarcodeDetector;")
    log_in(page, base, "paul")
    page.goto(f"{base}/plants/{plant.pk}/commission/datalogger/")
    page.click("[data-scan-button]")
    page.wait_for_function(
        "() => document.querySelector('[data-scan-message]').textContent.includes('saisissez le SN')"
    )
    assert "saisissez le SN" in page.inner_text("[data-scan-message]")
    page.fill("[data-scan-target]", SERIAL)
    page.click("main form button:has-text('Ajouter l')")
    page.wait_for_load_state()
    assert Datalogger.objects.filter(plant=plant, serial_number=SERIAL).exists()
    connection.close()  # queried under Playwright's loop: a connection of its own, closed here
