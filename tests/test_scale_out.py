"""Scale-out: two real Celery worker processes poll one fleet through the Redis broker; the same
batch handed to both at once polls each stick once (the per-logger lock: a stick answers one request
at a time), and every reading is stored once."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.utils import timezone

from core.heartbeat import WORKERS_KEY
from core.redisconn import redis_client
from devices import polling, tasks
from devices.models import Reading
from portal.celery import app

from .conftest import attach_logger, awake_inverter, make_plant

ROOT = Path(__file__).resolve().parents[1]
LOGGERS = 12

pytestmark = pytest.mark.slow  # tests/README.md: other processes


@pytest.fixture
def two_workers(settings):
    redis_client().delete(WORKERS_KEY)
    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "0", "DEVICE_REQUEST_GAP_SECONDS": "0",
           "DATABASE_URL": _database_url(settings)}  # fmt: skip
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
