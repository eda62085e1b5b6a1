"""Benchmark: each main page's first paint on an emulated Slow 3G line, cold cache, production build.

The production stack as deployed (tests/stack.py: hashed static files compressed with Brotli and
gzip, gunicorn with the compose command, Caddy with TLS in front), the demo's data (`seed_demo`:
its plants, a few days of history, with live values as a poll leaves them) in database
`aura_bench_slow3g`, and Debian's Chromium driven by Playwright. Slow 3G is WebPageTest's profile:
400 ms round trip, 400 kbit/s down and up, applied by Chromium's network emulation (DevTools
protocol). Each page is loaded in a new browser context: an empty cache and new connections; the
logged-in pages carry the session cookie of a login made beforehand at full speed (not its `styles`
cookie: a browser with an empty cache has not fetched the stylesheets). First paint is the
page's first-contentful-paint, the median of three cold loads; the dashboard's charts are also timed
(both drawn), and the bytes that crossed the line before the page's load event are counted.

Chromium's emulation delays each request, not the connection's own round trips: a real line adds
TCP's and TLS 1.3's (two round trips, 800 ms, once per page: HTTP/2 through Caddy is one
connection). `slow3g_first_paint_max_with_handshake_ms` adds them, so the figure cannot flatter.
The last line reads:
slow3g_first_paint_max_ms=<n> slow3g_first_paint_max_with_handshake_ms=<n> slow3g_<page>_ms=<n>...
slow3g_dashboard_charts_ms=<n> slow3g_max_page_kb=<n>
"""

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aura").rsplit("/", 1)[0]
DATABASE_URL = f"{BASE_URL}/aura_bench_slow3g"
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")

RUNS = 3  # cold loads per page; its median is the page's figure
ROUND_TRIP_MS = 400
KBIT_PER_S = 400
HANDSHAKE_MS = 2 * ROUND_TRIP_MS  # TCP + TLS 1.3, which the emulation does not delay
SLOW_3G = {
    "offline": False,
    "latency": ROUND_TRIP_MS,
    "downloadThroughput": KBIT_PER_S * 1000 / 8,
    "uploadThroughput": KBIT_PER_S * 1000 / 8,
}
INSTALLER, CUSTOMER = "soleilbleu", "client.martin@demo.aura"

FIRST_PAINT = """() => new Promise((resolve) => {
  const found = () => performance.getEntriesByName("first-contentful-paint")[0];
  if (found()) return resolve(found().startTime);
  new PerformanceObserver(() => found() && resolve(found().startTime))
    .observe({type: "paint", buffered: true});
})"""
# What crossed the line before the load event: the page and every resource (compressed sizes).
TRANSFERRED = """() => performance.getEntriesByType("navigation")[0].transferSize +
  performance.getEntriesByType("resource").reduce((sum, r) => sum + r.transferSize, 0)"""


def create_database():
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS aura_bench_slow3g")
        conn.execute("CREATE DATABASE aura_bench_slow3g")


def seed():
    """The demo's accounts and plants, with live values from each inverter's last reading."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from devices.models import Inverter, InverterLive
    from devices.registermap import HISTORY_FIELDS
    from plants.models import Plant

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    for inverter in Inverter.objects.all():
        last = inverter.readings.order_by("-slot").first()
        if last is not None:
            # As a poll stores them: watts as integers, scaled values (kWh, %) as decimals.
            values = {}
            for key in HISTORY_FIELDS:
                value = getattr(last, key)
                if value is not None:
                    values[key] = int(value) if value == int(value) else float(value)
            InverterLive.objects.update_or_create(
                inverter=inverter, defaults={"at": timezone.now(), "values": values}
            )
    plant = Plant.objects.get(name="Maison Martin")
    inverter = Inverter.objects.filter(datalogger__plant=plant).first()
    connection.close()
    return plant.pk, inverter.pk


def logged_in_state(browser, base, username):
    """The cookies of a login made at full speed (not measured)."""
    from portal.management.commands.seed_demo import PASSWORD

    context = browser.new_context(ignore_https_errors=True, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("article button[type=submit]")
    page.wait_for_load_state("load")
    assert "/login/" not in page.url, f"{username} could not log in"
    state = context.storage_state()
    context.close()
    # A cold cache is a browser that has not fetched the stylesheets: it has no `styles` cookie
    # either (portal.js sets it once they are in its cache), and gets them inline.
    state["cookies"] = [cookie for cookie in state["cookies"] if cookie["name"] != "styles"]
    return state


def measure(browser, url, state, *, charts=False):
    """(first paint ms, kB before load, charts drawn ms or None) of `url` on Slow 3G, cold cache."""
    context = browser.new_context(
        ignore_https_errors=True, storage_state=state, viewport={"width": 360, "height": 740}
    )
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    response = page.goto(url, wait_until="load", timeout=120_000)
    assert response.status == 200, f"{url}: {response.status}"
    assert "/login/" not in page.url or state is None, f"{url}: sent to the login page"
    first_paint = page.evaluate(FIRST_PAINT)
    kilobytes = page.evaluate(TRANSFERRED) / 1000
    drawn = None
    if charts:
        page.wait_for_function(
            "() => window.Chart && Chart.getChart('power-chart') && Chart.getChart('energy-chart')",
            timeout=120_000,
        )
        drawn = page.evaluate("() => performance.now()")
    context.close()
    return first_paint, kilobytes, drawn


def main():
    create_database()
    import django

    django.setup()
    from playwright.sync_api import sync_playwright

    from tests.stack import production_stack

    plant, inverter = seed()
    workdir = Path(tempfile.mkdtemp(prefix="aura-slow3g-"))
    pages = {
        "login": ("/login/", None),
        "fleet_home": ("/", INSTALLER),
        "plant_list": ("/plants/", INSTALLER),
        "dashboard": (f"/plants/{plant}/", INSTALLER),
        "plant_form": ("/plants/new/", INSTALLER),
        "alarm_list": ("/alarms/", INSTALLER),
        "inverter": (f"/devices/inverters/{inverter}/", INSTALLER),
        "battery": (f"/plants/{plant}/battery/", INSTALLER),
        "customer_dashboard": (f"/plants/{plant}/", CUSTOMER),
    }
    figures, kilobytes = {}, {}
    try:
        with production_stack(workdir, DATABASE_URL) as stack, sync_playwright() as p:
            base = f"https://localhost:{stack.https_port}"
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            states = {None: None, INSTALLER: logged_in_state(browser, base, INSTALLER),
                      CUSTOMER: logged_in_state(browser, base, CUSTOMER)}  # fmt: skip
            for name, (path, user) in pages.items():
                runs = [
                    measure(browser, base + path, states[user], charts=name == "dashboard")
                    for _ in range(RUNS)
                ]
                paint = statistics.median(run[0] for run in runs)
                figures[f"slow3g_{name}_ms"] = round(paint)
                kilobytes[name] = max(run[1] for run in runs)
                if name == "dashboard":
                    figures["slow3g_dashboard_charts_ms"] = round(statistics.median(run[2] for run in runs))
                print(f"{name:20} first paint {paint:6.0f} ms  {kilobytes[name]:6.1f} kB", flush=True)
            browser.close()
    except Exception:
        print((workdir / "web.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    worst = max(v for k, v in figures.items() if k != "slow3g_dashboard_charts_ms")
    summary = {
        "slow3g_first_paint_max_ms": worst,
        "slow3g_first_paint_max_with_handshake_ms": worst + HANDSHAKE_MS,
        **figures,
        "slow3g_max_page_kb": round(max(kilobytes.values()), 1),
    }
    print(" ".join(f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    sys.exit(main())
