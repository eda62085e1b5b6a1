"""Actors and real endpoints shared by the tests: three roles, two companies, a device simulator."""

import html
import os
import shutil
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from playwright.sync_api import sync_playwright
from rest_framework.test import APIClient

from accounts.models import Company, User
from devices.partitions import reading_partitions_ensure
from devices.reading import LOCK_KEY
from devices.services import datalogger_attach
from devices.simulator import FleetSimulator, SimulatedInverter, SimulatorThread
from plants.models import BatteryModel, Plant, PlantGrant, SystemType
from portal.celery import app as celery_app

from .factories import InverterFactory


def _redis_of_this_worker():
    """Under pytest-xdist (`make test-fast -n 2`) each worker has its own database (pytest-django)
    and, from here, its own Redis database: locks, hub state and heartbeats of one worker's tests
    are never another's. Worker N takes the database N below the one configured; the processes a
    test starts (Celery workers, hubs, gunicorn) inherit it through the environment."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker.removeprefix("gw") or 0)
    if offset:
        base, _, db = settings.REDIS_URL.rpartition("/")
        settings.REDIS_URL = os.environ["REDIS_URL"] = f"{base}/{int(db) - offset}"
        settings.CELERY_BROKER_URL = celery_app.conf.broker_url = settings.REDIS_URL


_redis_of_this_worker()

PASSWORD = "correct-horse-battery-9"
PHONE = {"width": 390, "height": 844}  # the browser tests' screen


# Fixtures that bring the database, Redis or a socket to the simulator: their tests are integration.
INTEGRATION_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "simulator"}


def pytest_collection_modifyitems(items):
    """Each test in its tier: slow when its module or a browser says so, integration when it uses
    the database, Redis or a socket, unit otherwise (tests/README.md)."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("slow"):
            continue
        real = item.get_closest_marker("django_db") or INTEGRATION_FIXTURES & set(item.fixturenames)
        item.add_marker(pytest.mark.integration if real else pytest.mark.unit)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Django's advice for test speed: a cheap hasher. Production's PBKDF2 (a million rounds) costs
    about 0.3 s per password set or checked, several times per test; what is tested here is who may
    log in, not the hash's strength."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _no_stale_logger_locks():
    """A run killed mid-poll leaves its logger locks in Redis until they expire; start without them."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(LOCK_KEY.format("*")):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """History partitions for every month the tests write readings in (the migration creates the
    current month and two ahead; tests also write past days and years)."""
    with django_db_blocker.unblock():
        now = timezone.now()
        reading_partitions_ensure(first=now - timedelta(days=3 * 365), last=now + timedelta(days=2 * 365))


def make_user(username, role, company=None, **extra):
    if role == User.Role.INSTALLER:
        extra.setdefault("company_role", "administrator")  # the tests of the other roles say theirs
    user = User.objects.create_user(
        username=username,
        email=f"{username}@example.fr",
        password=PASSWORD,
        role=role,
        company=company,
        **extra,
    )
    return user


def text(response):
    """The page as a person reads it (entities such as &#x27; unescaped)."""
    return html.unescape(response.content.decode())


def login(user):
    client = Client()
    client.force_login(user, backend="accounts.backends.ActiveCompanyBackend")
    return client


def api_for(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def company(db):
    return Company.objects.create(
        name="Soleil Bleu", address="1 rue A", mobile_phone="0600000000", email="contact@soleil.fr"
    )


@pytest.fixture
def other_company(db):
    return Company.objects.create(
        name="Armor Solaire", address="2 rue B", mobile_phone="0600000001", email="contact@armor.fr"
    )


@pytest.fixture
def admin_user(db):
    return make_user("admin", User.Role.DISTRIBUTOR_ADMIN)


@pytest.fixture
def installer(company):
    return make_user("paul", User.Role.INSTALLER, company)


@pytest.fixture
def colleague(company):
    return make_user("marie", User.Role.INSTALLER, company)


@pytest.fixture
def stranger(other_company):
    return make_user("yann", User.Role.INSTALLER, other_company)


@pytest.fixture
def customer(db):
    return make_user("client", User.Role.CUSTOMER)


PLANT_FIELDS = {
    "address": "3 rue C",
    "postcode": "69003",
    "city": "Lyon",
    "pv_power_kwp": 6,
    "system_type": SystemType.DC,
    "battery_model": BatteryModel.AURA_10,
}


def make_plant(company, name="Maison Martin", **extra):
    return Plant.objects.create(company=company, name=name, **{**PLANT_FIELDS, **extra})


def make_plants(company, names):
    """A plant of each name, in one statement (a fleet for the list and picker tests)."""
    return Plant.objects.bulk_create(Plant(company=company, name=name, **PLANT_FIELDS) for name in names)


@pytest.fixture
def plant(company):
    return make_plant(company)


@pytest.fixture
def logger(plant):
    """A logger of `plant` with one inverter, no device behind it (modules that poll override it)."""
    return InverterFactory(datalogger__plant=plant).datalogger


@pytest.fixture
def granted_plant(plant, customer, installer):
    PlantGrant.objects.create(
        plant=plant, customer=customer, granted_by=installer, accepted_at=timezone.now()
    )
    return plant


@pytest.fixture(scope="session")
def simulator():
    """A fleet simulator on real sockets for the whole session; tests add their own devices."""
    sim = FleetSimulator()
    thread = SimulatorThread(sim)
    with thread:
        sim.thread = thread
        yield sim


_next_serial = iter(range(2355550000, 2355559999))


def awake_inverter(logger_serial, inverter_serial, **fields):
    """A simulated inverter that stays awake unless a test puts it to sleep (Behaviour.ASLEEP): with
    the real clock, its battery would otherwise run down to its reserve on a winter evening and it
    would sleep, whatever the test checks."""
    return SimulatedInverter(logger_serial, inverter_serial, **{"sleeps_at_night": False, **fields})


@pytest.fixture
def v5_device(simulator):
    """A simulated V5 stick with its inverter, on the shared simulator, removed afterwards."""
    device = simulator.add_v5(awake_inverter(next(_next_serial), "AU7700001"))
    yield device
    simulator.v5_devices.pop(device.logger_serial, None)


@pytest.fixture
def tcp_device(simulator):
    unit = 1 + len(simulator.tcp_devices) % 200
    device = simulator.add_tcp(
        awake_inverter(next(_next_serial), "AU7700002", unit_id=unit), simulator.tcp_ports[0]
    )
    yield device
    simulator.tcp_devices.pop((simulator.tcp_ports[0], unit), None)


def attach_logger(plant, device, simulator, protocol="solarman_v5"):
    """Attach the simulated device's stick to `plant`, reached directly, as the portal's service does."""
    port = simulator.v5_port if protocol == "solarman_v5" else simulator.tcp_ports[0]
    return datalogger_attach(
        plant=plant,
        serial_number=str(device.logger_serial),
        protocol=protocol,
        reach="direct",
        host="127.0.0.1",
        port=port,
        unit_id=device.unit_id,
    )


def htmx_ready(page):
    """Until portal.js has fetched htmx, or decided this page does not need it (body[data-htmx-state])."""
    page.wait_for_function(
        "() => !document.body || !document.body.dataset.htmx || document.body.dataset.htmxState"
    )


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the test's ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport=PHONE, locale="fr-FR")
        page = context.new_page()
        # As a person does, a test acts once the page is ready: htmx is fetched after the load event
        # (static/js/portal.js), so every navigation also waits for it.
        goto = page.goto

        def goto_then_htmx(url, **options):
            response = goto(url, **options)
            htmx_ready(page)
            return response

        page.goto = goto_then_htmx
        page.csp_violations = []
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and page.csp_violations.append(message.text)
            ),
        )
        yield page
        assert not page.csp_violations, (
            page.csp_violations
        )  # every page ran under the portal's CSP without a refusal
        browser.close()


@pytest.fixture
def clocked_polls(settings, simulator, v5_device, django_capture_on_commit_callbacks):
    """Polls of `v5_device` on a plant, on a clock the test moves: `clocked_polls(plant)` gives the
    poll function (tests/clocked_polls.py)."""
    from .clocked_polls import ClockedPolls  # noqa: PLC0415 (it imports this module)

    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    started = []

    def start(plant):
        polls = ClockedPolls(plant, v5_device, simulator, django_capture_on_commit_callbacks)
        started.append(polls)
        return polls

    yield start
    for polls in started:
        polls.stop()
