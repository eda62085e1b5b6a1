"""Every page of the journey on a small phone (360 × 740): nothing wider than the screen, no field
without a label. Installer pages, the commissioning steps (the customer step after "Vérifier" with a
long e-mail), and the end customer's pages."""

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from alarms.models import Alarm
from devices.models import Datalogger, DeviceStatus, InverterLive
from plants.models import PlantGrant

from .browser import log_in, pytestmark  # noqa: F401 (the module's marks)
from .conftest import make_plant, make_user

SMALL_PHONE = {"width": 360, "height": 740}
LONG_EMAIL = "marie-christine.de-la-fontaine-beaumarchais@exemple-tres-long.fr"

OVERFLOW_AND_LABELS = """() => {
  const unlabeled = [...document.querySelectorAll("input, select, textarea")].filter((f) =>
    f.type !== "hidden" && f.offsetParent !== null && !f.labels.length &&
    !f.getAttribute("aria-label") && !f.getAttribute("aria-labelledby"));
  return {width: document.documentElement.scrollWidth, screen: window.innerWidth,
          unlabeled: unlabeled.map((f) => f.name || f.id || f.outerHTML.slice(0, 60))};
}"""


def check(page, url):
    page.goto(url)
    found = page.evaluate(OVERFLOW_AND_LABELS)
    assert found["width"] <= found["screen"], (
        f"{url}: {found['width']} px wide on a {found['screen']} px screen"
    )
    assert found["unlabeled"] == [], f"{url}: fields without a label {found['unlabeled']}"


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
    return plant, inverter, alarm, fresh


@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_small_phone_and_labels_its_fields(live_server, browser_page, journey):
    plant, inverter, alarm, fresh = journey
    page, base = browser_page, live_server.url
    page.set_viewport_size(SMALL_PHONE)
    log_in(page, base, "paul")
    for path in [
        "/", "/plants/", "/plants/new/", f"/plants/{plant.pk}/", f"/plants/{plant.pk}/about/",
        f"/plants/{plant.pk}/customers/", f"/plants/{plant.pk}/customers/transfer/",
        f"/plants/{plant.pk}/settings-log/", "/alarms/", f"/alarms/?plant={plant.pk}", f"/alarms/{alarm.pk}/",
        f"/devices/inverters/{inverter.pk}/", f"/devices/inverters/{inverter.pk}/settings/",
        f"/plants/{fresh.pk}/commission/datalogger/", "/team/", "/preferences/", "/alarms/codes/",
    ]:  # fmt: skip
        check(page, base + path)

    check(page, f"{base}/plants/{fresh.pk}/commission/customer/")
    page.fill("input[name=email]", LONG_EMAIL)
    page.click("button:has-text('Vérifier')")
    page.wait_for_selector("#check *")
    found = page.evaluate(OVERFLOW_AND_LABELS)
    assert found["width"] <= found["screen"], "the customer step after Vérifier is wider than the screen"

    page.click("text=Déconnexion")
    log_in(page, base, "lea")
    for path in [f"/plants/{plant.pk}/", "/plants/", "/preferences/"]:
        check(page, base + path)
    connection.close()  # queried under Playwright's loop: a connection of its own, closed here
