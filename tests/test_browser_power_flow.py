"""In a real browser: the power-flow picture follows a simulated plant from a sunny afternoon
(charging from PV while exporting) to the night (discharging), and says at once when the network
is cut, then when it is back."""

import pytest
from django.db import connection

from accounts.models import User

from .browser import log_in, pytestmark  # noqa: F401 (the module's marks)
from .conftest import make_user
from .test_browser_dashboard import poll, polled_plant  # noqa: F401 (fixture)

AFTERNOON = {"pv1_power": 1500, "pv2_power": 1000, "battery_power": -800, "load_power_l1": 700,
             "grid_power_l1": -1000}  # fmt: skip
NIGHT = {"pv1_power": 0, "pv2_power": 0, "battery_power": 600, "load_power_l1": 650, "grid_power_l1": 50}


def picture(page):
    """{branch: (direction, words)} as drawn in the page's power-flow picture."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('svg.power-flow [data-branch]')].map(
            (g) => [g.dataset.branch, [g.dataset.direction, g.querySelector('[data-value]').textContent]]))"""
    )


@pytest.mark.django_db(transaction=True)
def test_the_picture_follows_the_plant_from_afternoon_to_night(
    live_server,
    browser_page,
    company,
    polled_plant,  # noqa: F811
):
    plant, logger, device = polled_plant
    device.overrides = AFTERNOON
    poll(logger)
    make_user("paul", User.Role.INSTALLER, company)
    page, base = browser_page, live_server.url
    log_in(page, base, "paul")
    page.goto(f"{base}/plants/{plant.pk}/")
    assert picture(page) == {
        "pv": ["in", "2,50\u00a0kW"],
        "grid": ["out", "injecte 1,00\u00a0kW"],
        "home": ["out", "700\u00a0W"],
        "battery": ["out", "en charge 800\u00a0W"],
    }
    # The lines are drawn, thicker for more power, and the picture fits a small phone.
    widths = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('svg.power-flow [data-branch]')].map("
        "(g) => [g.dataset.branch, g.querySelector('path.line').getBoundingClientRect().width"
        " + g.querySelector('path.line').getBoundingClientRect().height]))"
    )
    assert widths["pv"] > 0 and widths["grid"] > 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    device.overrides = NIGHT
    poll(logger)
    page.wait_for_function(
        "() => document.querySelector('svg.power-flow [data-branch=battery]').dataset.direction === 'in'",
        timeout=10000,
    )
    assert picture(page) == {
        "pv": ["idle", "0\u00a0W"],
        "grid": ["in", "soutire 50\u00a0W"],
        "home": ["out", "650\u00a0W"],
        "battery": ["in", "en décharge 600\u00a0W"],
    }
    connection.close()  # queried under Playwright's loop: a connection of its own, closed here


@pytest.mark.django_db(transaction=True)
def test_a_cut_network_is_said_at_once_and_its_return_too(
    live_server,
    browser_page,
    company,
    polled_plant,  # noqa: F811
    settings,
):
    plant, _, _ = polled_plant  # the dashboard refreshes every second here
    settings.POLL_INTERVAL_SECONDS = 300  # the values stay live (not stale) for the whole test
    make_user("paul", User.Role.INSTALLER, company)
    page, base = browser_page, live_server.url
    log_in(page, base, "paul")
    page.goto(f"{base}/plants/{plant.pk}/")
    assert page.locator("[data-live-note]").is_visible()
    assert page.locator("#live-connection").is_hidden()

    page.context.set_offline(True)
    page.wait_for_selector("#live-connection.lost", timeout=5000)  # within one refresh period or two
    first = page.inner_text("#live-connection")
    assert first.startswith("Connexion perdue\u00a0: ces valeurs datent de")
    assert page.locator("[data-live-note]").is_hidden()  # no longer "En direct"
    page.wait_for_function(
        f"() => document.querySelector('#live-connection').textContent !== {first!r}", timeout=5000
    )  # the age grows

    page.context.set_offline(False)
    page.wait_for_function(
        "() => !document.querySelector('#live-connection').classList.contains('lost')", timeout=5000
    )
    assert (
        page.inner_text("#live-connection")
        == "Connexion rétablie\u00a0: les valeurs sont de nouveau en direct."
    )
    page.wait_for_selector("[data-live-note]", state="visible", timeout=3000)  # "En direct" again
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_live_session_draws_the_picture_and_says_when_the_line_drops(
    live_server,
    browser_page,
    company,
    polled_plant,  # noqa: F811
):
    plant, logger, device = polled_plant
    device.overrides = AFTERNOON
    inverter = logger.inverters.get()
    make_user("paul", User.Role.INSTALLER, company)
    page, base = browser_page, live_server.url
    log_in(page, base, "paul")
    page.goto(f"{base}/devices/inverters/{inverter.pk}/live/")
    page.wait_for_selector("svg.power-flow")  # read from the stick, not the stored values
    assert picture(page)["battery"] == ["out", "en charge 800\u00a0W"]

    page.context.set_offline(True)
    page.wait_for_selector("#live-session-connection.lost", timeout=8000)  # refreshed every 5 s
    assert page.inner_text("#live-session-connection").startswith("Connexion perdue")
    page.context.set_offline(False)
    page.wait_for_function(
        "() => !document.querySelector('#live-session-connection').classList.contains('lost')", timeout=8000
    )
    assert page.inner_text("#live-session-connection").startswith("Connexion rétablie")
    connection.close()
