"""`make demo`'s simulator tells the truth: it follows the portal's database (a stick added there
calls the hub in within seconds, one removed hangs up), and its inverters have remote control on but
the one the demo leaves off."""

import asyncio
import io
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connections

from devices.management.commands.simulate_fleet import Command, device_for
from devices.models import Datalogger, Reading
from devices.services import datalogger_remove
from devices.simulator import FleetSimulator, SimulatorThread
from energy.models import DailyEnergy
from plants.models import Plant
from portal.management.commands.seed_demo import seed_history

from .conftest import make_plant
from .test_hub import HubThread

SERIAL = 2377790001


@pytest.mark.django_db(transaction=True)
def test_a_stick_added_in_the_portal_calls_in_and_one_removed_hangs_up(plant):
    hub = HubThread({SERIAL})
    sim = FleetSimulator(heartbeat_seconds=0)
    thread = SimulatorThread(sim)
    command = Command()
    command.opts = {
        "call_in": f"127.0.0.1:{hub.hub.port}",
        "latency": 0,
        "remote_control_off": [],
        "always_awake": False,
    }
    calls = {}

    def follow():
        asyncio.run_coroutine_threadsafe(command._follow_database(sim, calls), thread.loop).result(10)

    try:
        with thread:
            follow()
            assert not calls  # nothing calls in yet
            logger = Datalogger.objects.create(plant=plant, serial_number=str(SERIAL), reach="hub")
            follow()
            hub.wait_for(SERIAL)
            datalogger_remove(logger=logger)
            follow()
            hub.wait_for(SERIAL, present=False)
            # The database connection the simulator's thread opened, closed (the test database is
            # dropped at the end of the run).
            asyncio.run_coroutine_threadsafe(sync_to_async(connections.close_all)(), thread.loop).result(5)
    finally:
        hub.close()


def test_remote_control_is_on_but_for_the_logger_left_off(plant, db):
    on = Datalogger(plant=plant, serial_number="2355553510")
    off = Datalogger(plant=plant, serial_number="2355553513")
    assert device_for(on, 0, ["2355553513"]).remote_control is True
    assert device_for(off, 0, ["2355553513"]).remote_control is False


def test_the_demo_seeds_days_of_history_once_from_the_simulators_physics(company, db):
    plant = make_plant(company, latitude=45.76, longitude=4.84)
    logger = Datalogger.objects.create(plant=plant, serial_number="2355553599", reach="hub")
    now = datetime(2026, 6, 20, 15, 2, tzinfo=UTC)
    assert seed_history(logger, days=3, now=now) == 3
    inverter = logger.inverters.get()
    assert inverter.serial_number == "AU2355553599"  # the one simulate_fleet answers with
    assert Reading.objects.filter(inverter=inverter).count() == 3 * 288 + 1
    days = DailyEnergy.objects.filter(plant=plant).order_by("day")
    assert len(days) == 4 and all(day.production_wh > 10_000 for day in days[1:3])  # June days
    assert seed_history(logger, days=3, now=now) == 0  # once


@pytest.mark.slow  # the demo's 60 days of history (tests/README.md)
def test_seed_demo_runs_twice_and_gives_every_demo_logger_its_history(db, settings):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    for logger in Datalogger.objects.active():
        assert logger.inverters.get().readings.exists(), logger.plant.name
    plant = Plant.objects.get(name="Maison Martin")
    assert DailyEnergy.objects.filter(plant=plant).count() >= 60
