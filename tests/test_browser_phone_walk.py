"""Every page of the journey on a small phone (360 × 740): nothing wider than the screen, no field
without a label. Installer pages, the commissioning steps (the customer step after "Vérifier" with a
long e-mail), and the end customer's pages."""

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from alarms.models import Alarm
from devices.models import Datalogger, DeviceStatus, InverterLive
from economics.models import Tariff
from plants.models import PlantGrant, SavedFilter

from .browser import (
    DESKTOP,
    OVERFLOW_AND_LABELS,
    SMALL_PHONE,
    check_page,
    keyboard_unreachable,
    log_in,
    log_out,
    pytestmark,  # noqa: F401 (the module's marks)
)
from .conftest import make_plant, make_user

LONG_EMAIL = "marie-christine.de-la-fontaine-beaumarchais@exemple-tres-long.fr"


@pytest.fixture
def journey(company, installer):
    plant = make_plant(company, name="Résidence des Tilleuls, bâtiment B — Villeurbanne")
    logger = Datalogger.objects.create(plant=plant, serial_number="2401000123", host="127.0.0.1",
                                       status=DeviceStatus.ONLINE, last_seen_at=timezone.now())  # fmt: skip
    inverter = logger.inverters.create(serial_number="KS0000123", status=DeviceStatus.ONLINE)
    live = {"pv_power": 3150, "battery_power": -1020, "battery_soc": 62}
    InverterLive.objects.create(inverter=inverter, at=timezone.now(), values=live)
    alarm = Alarm.objects.create(plant=plant, datalogger=logger, inverter=inverter, code_id="F13",
                                 started_at=timezone.now())  # fmt: skip
    customer = make_user("lea", User.Role.CUSTOMER)
    User.objects.filter(pk=customer.pk).update(email=LONG_EMAIL)
    PlantGrant.objects.create(
        plant=plant, customer=customer, granted_by=installer, accepted_at=timezone.now()
    )
    fresh = make_plant(company, name="Maison à commissionner")
    SavedFilter.objects.create(user=installer, name="Hors ligne", query="status=offline")
    Tariff.objects.create(
        plant=plant, valid_from=timezone.localdate(), kind=Tariff.Kind.PEAK_OFF_PEAK,
        off_peak_hours="22:00-06:00", peak_price="0.2146", off_peak_price="0.1696",
    )  # fmt: skip
    return plant, inverter, alarm, fresh


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_fits_labels_its_fields_and_has_no_serious_accessibility_fault(
    live_server, browser_page, journey, size
):
    plant, inverter, alarm, fresh = journey
    page, base = browser_page, live_server.url
    phone = size == SMALL_PHONE
    page.set_viewport_size(size)
    for path in ["/login/", "/pro-account/request/", "/password-reset/"]:
        check_page(page, base + path, phone=phone)
    log_in(page, base, "paul")
    for path in [
        "/", "/plants/", "/plants/?status=offline", "/plants/new/", f"/plants/{plant.pk}/",
        f"/plants/{plant.pk}/about/",
        f"/plants/{plant.pk}/customers/", f"/plants/{plant.pk}/customers/transfer/",
        f"/plants/{plant.pk}/settings-log/", f"/plants/{plant.pk}/battery/",
        f"/plants/{plant.pk}/subcontractors/",
        "/alarms/", f"/alarms/?plant={plant.pk}", f"/alarms/{alarm.pk}/", "/alarms/rules/",
        f"/devices/inverters/{inverter.pk}/", f"/devices/inverters/{inverter.pk}/settings/",
        f"/devices/inverters/{inverter.pk}/live/",
        f"/plants/{fresh.pk}/commission/datalogger/", "/team/", "/preferences/", "/alarms/codes/",
        "/api-tokens/", "/webhooks/", "/preferences/my-data/", "/devices/firmware/",
        f"/plants/{plant.pk}/savings/", f"/plants/{plant.pk}/tariffs/", "/tempo/",
        "/devices/settings-jobs/", "/devices/settings-jobs/new/",
    ]:  # fmt: skip
        check_page(page, base + path, phone=phone)

    check_page(page, f"{base}/plants/{fresh.pk}/commission/customer/", phone=phone)
    page.fill("input[name=email]", LONG_EMAIL)
    page.click("button:has-text('Vérifier')")
    page.wait_for_selector("#check *")
    found = page.evaluate(OVERFLOW_AND_LABELS)
    assert found["width"] <= found["screen"], "the customer step after Vérifier is wider than the screen"

    log_out(page)
    log_in(page, base, "lea")
    for path in [f"/plants/{plant.pk}/", "/plants/", "/preferences/", f"/plants/{plant.pk}/battery/",
                 f"/plants/{plant.pk}/savings/", f"/plants/{plant.pk}/tariffs/"]:  # fmt: skip
        check_page(page, base + path, phone=phone)
    connection.close()  # queried under Playwright's loop: a connection of its own, closed here


@pytest.mark.django_db(transaction=True)
def test_the_phone_header_is_one_row_with_the_menu_behind_one_button(live_server, browser_page, journey):
    page, base = browser_page, live_server.url
    page.set_viewport_size(SMALL_PHONE)
    log_in(page, base, "paul")
    page.goto(f"{base}/plants/")
    header = page.locator("header.site-header").bounding_box()
    assert header["height"] <= 90  # one row, not three: the page's title shows at once
    assert page.locator("header a:visible", has_text="Alarmes").count() == 0
    page.click(".menu-phone summary")
    page.locator("header a:visible", has_text="Alarmes").click()
    page.wait_for_url(f"{base}/alarms/")

    page.set_viewport_size(DESKTOP)
    assert page.locator("header a:visible", has_text="Alarmes").count() == 1  # in the bar
    assert page.locator(".menu-phone").is_hidden()
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_keyboard_reaches_every_control_of_the_main_pages(live_server, browser_page, journey):
    plant, inverter, alarm, fresh = journey
    page, base = browser_page, live_server.url
    page.set_viewport_size(DESKTOP)
    log_in(page, base, "paul")
    for path in [
        "/plants/", f"/plants/{plant.pk}/", f"/alarms/{alarm.pk}/", "/plants/new/",
        f"/devices/inverters/{inverter.pk}/settings/", "/alarms/codes/",
    ]:  # fmt: skip
        page.goto(base + path)
        missed = keyboard_unreachable(page)
        assert missed == [], f"{path}: {missed}"
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_time_zone_is_found_by_typing_part_of_its_name(live_server, browser_page, journey):
    page, base = browser_page, live_server.url
    log_in(page, base, "paul")
    page.goto(f"{base}/plants/new/")
    page.fill("input[name=time_zone]", "")
    page.type("input[name=time_zone]", "new_y")
    page.wait_for_selector("#time-zone-matches option[value='America/New_York']", state="attached")
    assert page.evaluate("document.querySelectorAll('#time-zone-matches option').length") == 1
    connection.close()
