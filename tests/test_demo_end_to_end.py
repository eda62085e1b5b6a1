"""`make demo` at any hour, end to end: the demo's own commands (seed_demo, run_logger_hub,
simulate_fleet --from-db, as the Makefile runs them) against the test database. A remote write is
confirmed by read-back (and refused, with the guide's instruction, on the inverter left off); a stick
added in the browser calls in and the step says so; the bars have 60 days."""

import io
import os
import re
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from devices import polling, remote
from devices.models import Datalogger, Inverter, SettingChange
from energy.models import DailyEnergy
from plants.models import Plant

from .conftest import login, text
from .stack import ROOT, free_port

pytestmark = pytest.mark.slow  # tests/README.md: other processes


def eventually(check, seconds=30):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.3)


@pytest.fixture
def demo(settings):
    """The demo's processes, on free ports, reading and writing the test database."""
    call_command("seed_demo", stdout=io.StringIO())
    hub_port, relay_port, v5_port, tcp_port = free_port(), free_port(), free_port(), free_port()
    Datalogger.objects.filter(protocol="modbus_tcp").update(port=tcp_port)
    settings.LOGGER_HUB_RELAY_PORT, settings.LOGGER_HUB_PORT = relay_port, hub_port
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    db = django_settings.DATABASES["default"]
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_logger_hub", "--host", "127.0.0.1", "--port", str(hub_port),
             "--relay-port", str(relay_port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, "manage.py", "simulate_fleet", "--from-db", "--accept-any-serial",
             "--call-in", f"127.0.0.1:{hub_port}", "--remote-control-off", "2355553513", "--always-awake",
             "--v5-port", str(v5_port), "--tcp-port", str(tcp_port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        ),
    ]  # fmt: skip
    try:
        hub_loggers = Datalogger.objects.filter(reach="hub")
        eventually(lambda: all(polling.datalogger_test_connection(lg).ok for lg in hub_loggers), 60)
        yield
    finally:
        for process in processes:
            process.terminate()
            process.wait(20)


@pytest.mark.django_db(transaction=True)
def test_the_demo_writes_calls_in_and_shows_sixty_days(demo):
    martin = Inverter.objects.get(datalogger__serial_number="2355553510")
    (change,) = remote.setting_changes_request(inverter=martin, by=User.objects.get(username="soleilbleu"),
                                               new={"charge_limit": 55})  # fmt: skip
    remote.setting_changes_apply(change_ids=[change.pk])
    change.refresh_from_db()
    assert change.outcome == SettingChange.Outcome.CONFIRMED, str(change.answer)

    roche = Inverter.objects.get(datalogger__serial_number="2355553513")
    (refused,) = remote.setting_changes_request(inverter=roche, by=User.objects.get(username="soleilbleu"),
                                                new={"charge_limit": 55})  # fmt: skip
    remote.setting_changes_apply(change_ids=[refused.pk])
    refused.refresh_from_db()
    assert refused.outcome == SettingChange.Outcome.REFUSED and "CONTRÔLE À DISTANCE" in str(refused.answer)

    installer = login(User.objects.get(username="soleilbleu"))
    plant = Plant.objects.get(name="Chantier Petit")
    response = installer.post(
        reverse("plants:commission", args=[plant.pk, "datalogger"]),
        {
            "serial_number": "2355559999",
            "reach": "hub",
            "protocol": "solarman_v5",
            "port": 8899,
            "unit_id": 1,
        },
    )
    assert response.status_code == 302
    logger = Datalogger.objects.get(serial_number="2355559999")
    fragment = reverse("plants:called_in", args=[plant.pk, logger.pk])
    eventually(lambda: "a appelé le portail" in text(installer.get(fragment)))

    martin_plant = Plant.objects.get(name="Maison Martin")
    days = DailyEnergy.objects.filter(plant=martin_plant, day__lt=timezone.localdate() - timedelta(days=1))
    assert days.filter(production_wh__gt=0).count() >= 58
    previous_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    bars = installer.get(
        f"/api/v1/plants/{martin_plant.pk}/energy/?period=month&date={previous_month}"
    ).json()
    assert len(bars["bars"]) >= 28 and all(re.match(r"\d{4}-\d\d-\d\d", b["label"]) for b in bars["bars"])
