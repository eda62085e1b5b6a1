"""In a real browser: the installer's fleet home and a plant dashboard that updates itself after a
poll; the end customer on a small phone sees their plant only."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from devices.polling import poll_loggers
from plants.models import PlantGrant

from .browser import log_in, pytestmark  # noqa: F401 (the module's marks)
from .conftest import attach_logger, awake_inverter, make_plant, make_user

SMALL_PHONE = {"width": 360, "height": 740}


def poll(logger):
    """A poll, as a worker makes it: in its own thread (Playwright runs an event loop in this one)."""

    def work():
        try:
            poll_loggers([logger.id], force_info=True)
        finally:
            connection.close()  # or the test database could not be dropped at the end

    with ThreadPoolExecutor(1) as pool:
        pool.submit(work).result()


@pytest.fixture
def polled_plant(company, simulator, settings):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0
    settings.DASHBOARD_REFRESH_SECONDS = 1
    plant = make_plant(company, name="Maison Garnier")
    device = simulator.add_v5(awake_inverter(2355558811, "AU5558811"))
    device.overrides = {"pv1_power": 1500, "pv2_power": 1000, "battery_power": -800}
    logger = attach_logger(plant, device, simulator)
    poll(logger)
    yield plant, logger, device
    simulator.v5_devices.pop(device.logger_serial, None)


@pytest.mark.django_db(transaction=True)
def test_the_installer_sees_the_fleet_then_a_plant_whose_flow_updates_after_a_poll(
    live_server, browser_page, company, polled_plant
):
    plant, logger, device = polled_plant
    make_user("paul", User.Role.INSTALLER, company)
    page, base = browser_page, live_server.url
    log_in(page, base, "paul")
    assert "Mon parc" in page.inner_text("main h1")
    assert "2,50\u00a0kW" in page.inner_text("main")  # the fleet's solar power now

    page.goto(f"{base}/plants/{plant.pk}/")
    flow = page.locator("svg.power-flow")
    assert "2,50\u00a0kW" in flow.text_content()
    assert "en charge 800\u00a0W" in flow.text_content()
    # Both charts drew from the JSON endpoints (Chart.js holds their data).
    page.wait_for_function(
        "() => window.Chart && Chart.getChart('power-chart') && Chart.getChart('energy-chart')"
    )
    assert page.evaluate("Chart.getChart('power-chart').data.datasets.length") == 4
    totals = page.inner_text("[data-energy-totals]")
    assert totals.startswith("Total\u00a0: Production") and "kWh" in totals

    device.overrides = {"pv1_power": 2000, "pv2_power": 1500, "battery_power": 500}
    poll(logger)
    page.wait_for_function(
        "() => document.querySelector('svg.power-flow').textContent.includes('3,50')", timeout=10000
    )
    assert "en décharge 500\u00a0W" in page.locator("svg.power-flow").text_content()

    page.click("button[data-period=year]")
    page.wait_for_function("() => /^\\d{4}$/.test(document.querySelector('[data-energy-label]').textContent)")
    connection.close()  # queried under Playwright's loop: a connection of its own, closed here


@pytest.mark.django_db(transaction=True)
def test_the_customer_on_a_small_phone_sees_their_plant_only(
    live_server, browser_page, company, polled_plant, installer
):
    plant, _, _ = polled_plant
    customer = make_user("lea", User.Role.CUSTOMER)
    PlantGrant.objects.create(
        plant=plant, customer=customer, granted_by=installer, accepted_at=timezone.now()
    )
    other = make_plant(company, name="Voisin Secret")
    page, base = browser_page, live_server.url
    page.set_viewport_size(SMALL_PHONE)

    log_in(page, base, "lea")
    page.wait_for_url(f"{base}/plants/{plant.pk}/")
    assert "2,50\u00a0kW" in page.locator("svg.power-flow").text_content()
    assert "AU5558811" not in page.content() and "Paramètres" not in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.wait_for_function("() => window.Chart && Chart.getChart('power-chart')")

    page.goto(f"{base}/plants/")
    assert "Maison Garnier" in page.inner_text("main") and "Voisin Secret" not in page.content()
    assert page.goto(f"{base}/plants/{other.pk}/").status == 404
    assert page.request.get(f"{base}/api/v1/plants/{other.pk}/power/").status == 404
    connection.close()  # queried under Playwright's loop: a connection of its own, closed here
