"""Scale-out: two real Celery worker processes poll one fleet through the Redis broker; the same
batch handed to both at once polls each stick once (the per-logger lock: a stick answers one request
at a time), and every reading is stored once. Two real hub processes share the sticks that call in;
one killed, its sticks are found at the other."""

import asyncio
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from core.heartbeat import WORKERS_KEY
from core.redisconn import redis_client
from devices import hubregistry, polling, tasks
from devices.models import Datalogger, Inverter, Reading, ReadingFlag
from energy import tasks as energy_tasks
from energy.accounting import daily_energy_compute
from energy.models import DailyEnergy
from portal.celery import app

from .conftest import attach_logger, awake_inverter, make_plant, make_plants
from .hub_processes import held_by, hub_processes
from .stack import wait_for
from .test_energy_refresh import DAY, MIDNIGHT, SLOT, pv_counter

ROOT = Path(__file__).resolve().parents[1]
LOGGERS = 12
HUB_STICKS = 20

pytestmark = pytest.mark.slow  # tests/README.md: other processes


@pytest.fixture
def two_workers(settings):
    redis_client().delete(WORKERS_KEY)
    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "0", "DEVICE_REQUEST_GAP_SECONDS": "0",
           "DATABASE_URL": _database_url(settings), "REDIS_URL": settings.REDIS_URL}  # fmt: skip
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--concurrency",
                "1",
                "-n",
                f"scale{i}@%h",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
        )  # fmt: skip
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        while redis_client().zcard(WORKERS_KEY) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert redis_client().zcard(WORKERS_KEY) == 2, "both workers beat"
        while len(app.control.ping(timeout=1.0)) < 2 and time.monotonic() < deadline:
            pass  # and both consume from the broker
        yield
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        redis_client().delete(WORKERS_KEY)


def _database_url(settings):
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def override_eager(value):
    before = app.conf.task_always_eager
    app.conf.task_always_eager = value
    try:
        yield
    finally:
        app.conf.task_always_eager = before


@pytest.mark.django_db(transaction=True)
def test_two_workers_given_the_same_batch_poll_each_stick_once(company, simulator, two_workers):
    devices = [
        simulator.add_v5(awake_inverter(2355552000 + i, f"AU{i:09d}", latency=0.3)) for i in range(LOGGERS)
    ]
    try:
        ids = [
            attach_logger(make_plant(company, name=f"P{i}"), d, simulator).id for i, d in enumerate(devices)
        ]
        cycle_at = timezone.now()
        with override_eager(False):  # through the broker, as the beat sends them
            for _ in range(2):  # the same batch twice at once: both workers take one
                tasks.poll_batch.delay(ids, cycle_at.isoformat())
        stored = Reading.objects.filter(slot=polling.history_slot(cycle_at))
        deadline = time.monotonic() + 60
        while stored.count() < LOGGERS and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # the other copy, had it polled anyway, would have read by now
        live_reads = [sum(1 for read in d.reads if read == (4, 3000)) for d in devices]
        assert live_reads == [1] * LOGGERS  # each stick read by one worker only, the other found it busy
        assert stored.count() == LOGGERS
    finally:
        for d in devices:
            simulator.v5_devices.pop(d.logger_serial, None)


def _poll_cycle(ids, cycle_at, expected):
    """One cycle through the broker, in two batches (one per worker); the readings of its slot."""
    with override_eager(False):
        for batch in polling.batches(ids, len(ids) // 2):
            tasks.poll_batch.delay(batch, cycle_at.isoformat())
    stored = Reading.objects.filter(slot=polling.history_slot(cycle_at))
    deadline = time.monotonic() + 60
    while stored.count() < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # anything stored twice would be by now
    return stored


@pytest.mark.django_db(transaction=True)
def test_two_hubs_share_the_fleet_and_a_killed_hubs_sticks_are_polled_at_the_other(
    company, simulator, two_workers, settings
):
    serials = [2355553100 + i for i in range(HUB_STICKS)]
    plant = make_plant(company, name="Hubs")
    ids = [Datalogger.objects.create(plant=plant, serial_number=str(s), reach="hub").id for s in serials]
    devices = [simulator.add_v5(awake_inverter(s, f"KSH{s}")) for s in serials]
    calls = []
    try:
        with hub_processes(2, settings) as (first, second):
            addresses = [("127.0.0.1", first.port), ("127.0.0.1", second.port)]
            calls = asyncio.run_coroutine_threadsafe(
                simulator.call_in(*addresses[0], devices, backoff=0.2, others=addresses[1:]),
                simulator.thread.loop,
            ).result(5)
            wait_for(lambda: None not in held_by(serials))
            assert set(held_by(serials)) == {first.name, second.name}, "the sticks are spread over both hubs"
            full = {"up": True, "hubs": 2, "sticks": HUB_STICKS}
            wait_for(lambda: hubregistry.status(redis_client()) == full)  # counted in each hub's next beat

            cycle_at = timezone.now()
            assert _poll_cycle(ids, cycle_at, HUB_STICKS).count() == HUB_STICKS  # wherever each stick is
            assert [sum(1 for read in d.reads if read == (4, 3000)) for d in devices] == [1] * HUB_STICKS

            first.kill()
            wait_for(lambda: set(held_by(serials)) == {second.name})  # called in at the other
            stored = _poll_cycle(ids, cycle_at + timedelta(minutes=5), HUB_STICKS)
            assert stored.count() == HUB_STICKS
            assert [sum(1 for read in d.reads if read == (4, 3000)) for d in devices] == [2] * HUB_STICKS
    finally:
        for call in calls:
            simulator.thread.loop.call_soon_threadsafe(call.cancel)
        for d in devices:
            simulator.v5_devices.pop(d.logger_serial, None)


ENERGY_PLANTS = 300


@pytest.mark.django_db(transaction=True)
def test_the_energy_refresh_split_over_two_workers_gives_the_rows_of_one_run(company, two_workers):
    plants = make_plants(company, [f"E{i}" for i in range(ENERGY_PLANTS)])
    loggers = Datalogger.objects.bulk_create(
        Datalogger(plant=p, serial_number=str(2403000000 + i), host="127.0.0.1") for i, p in enumerate(plants)
    )
    inverters = Inverter.objects.bulk_create(
        Inverter(datalogger=lg, serial_number=f"E{lg.serial_number}", history_slot=MIDNIGHT + 191 * SLOT)
        for lg in loggers
    )
    Reading.objects.bulk_create(
        Reading(inverter=inv, slot=MIDNIGHT + i * SLOT, pv_energy_today=pv_counter(MIDNIGHT + i * SLOT))
        for inv in inverters
        for i in range(192)
    )
    ids = [p.pk for p in plants]
    now = MIDNIGHT + timedelta(hours=16)
    with override_eager(False):  # six batches, both workers take some
        for batch in polling.batches(ids, 50):
            energy_tasks.refresh_energy_batch.delay(batch, DAY.isoformat(), now.isoformat())
    deadline = time.monotonic() + 120
    while DailyEnergy.objects.filter(day=DAY).count() < ENERGY_PLANTS and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(1)
    fields = ["plant_id", "production_wh", "slots_with_data", "slots_expected", "latest_slot", "tally"]
    split = list(DailyEnergy.objects.filter(day=DAY).order_by("plant_id").values_list(*fields))
    DailyEnergy.objects.all().delete()
    ReadingFlag.objects.all().delete()
    daily_energy_compute(plants=plants, day=DAY, now=now)
    one_run = list(DailyEnergy.objects.filter(day=DAY).order_by("plant_id").values_list(*fields))
    assert len(split) == ENERGY_PLANTS and split == one_run
