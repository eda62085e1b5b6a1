"""/healthz: the database, Redis, the workers (by their heartbeats; pinged in the deep check) and the hub."""

import os
import subprocess
import sys
import time
from importlib import metadata

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone

from core.heartbeat import (
    POLL_CYCLE_KEY,
    WORKERS_KEY,
    WORKERS_WITHOUT_DATABASE_KEY,
    poll_cycle_sent,
    worker_heartbeat,
)
from core.redisconn import redis_client
from devices.partitions import add_months, month_of, partition_name
from portal import health

TOKEN = "monitoring-token-for-tests"


@pytest.fixture(autouse=True)
def fresh_deep_report():
    health._deep_cache.clear()


@pytest.fixture
def monitor(settings):
    """Monitoring: a client with the health token, which sees what is down and why."""
    settings.HEALTHZ_TOKEN = TOKEN
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def test_it_reports_redis_down_with_the_reason(monitor, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = monitor.get("/healthz", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    report = response.json()
    assert report["database"]["ok"] is True
    assert report["redis"]["ok"] is False
    assert report["redis"]["detail"].startswith("injoignable")
    assert report["celery"]["ok"] is False


def test_it_reports_the_database_and_redis_up(monitor, db):
    report = monitor.get("/healthz", HTTP_ACCEPT="application/json").json()
    assert report["database"]["ok"] and report["redis"]["ok"]


def test_the_html_page_names_what_is_down(monitor, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = monitor.get("/healthz")
    assert response.status_code == 503
    assert "redis" in response.content.decode()


@pytest.fixture
def no_heartbeats():
    redis_client().delete(WORKERS_KEY, WORKERS_WITHOUT_DATABASE_KEY, POLL_CYCLE_KEY)
    yield
    redis_client().delete(WORKERS_KEY, WORKERS_WITHOUT_DATABASE_KEY, POLL_CYCLE_KEY)


def test_anonymous_callers_get_the_status_only(client, monitor, db, no_heartbeats, settings):
    response = client.get("/healthz?deep=1", HTTP_ACCEPT="application/json")
    assert response.status_code == 503 and response.json() == {"status": {"ok": False, "detail": ""}}
    worker_heartbeat("celery@test")
    poll_cycle_sent()
    assert client.get("/healthz", HTTP_ACCEPT="application/json").json() == {
        "status": {"ok": True, "detail": ""}
    }
    assert "celery" in monitor.get("/healthz", HTTP_ACCEPT="application/json").json()


def test_a_stopped_beat_is_a_503_after_three_missed_cycles(monitor, db, no_heartbeats, settings):
    worker_heartbeat("celery@test")
    assert monitor.get("/healthz").status_code == 503  # no cycle ever sent
    poll_cycle_sent()
    assert monitor.get("/healthz").status_code == 200
    redis_client().set(POLL_CYCLE_KEY, time.time() - 3 * settings.POLL_INTERVAL_SECONDS - 5)
    response = monitor.get("/healthz", HTTP_ACCEPT="application/json")
    assert response.status_code == 503 and "le beat" in response.json()["beat"]["detail"]


@pytest.mark.slow
def test_a_worker_on_a_refusing_database_is_not_healthy(monitor, db, no_heartbeats):
    poll_cycle_sent()
    worker = start_worker("postgres://postgres@127.0.0.1:1/aura")  # nothing listens on port 1
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not redis_client().zcard(WORKERS_WITHOUT_DATABASE_KEY):
            time.sleep(0.5)
        response = monitor.get("/healthz", HTTP_ACCEPT="application/json")
        assert response.status_code == 503
        assert "ne joignent pas la base" in response.json()["celery"]["detail"]
    finally:
        worker.terminate()
        worker.wait(20)


def test_workers_are_known_by_their_heartbeats_without_waiting(monitor, db, no_heartbeats):
    report = monitor.get("/healthz", HTTP_ACCEPT="application/json").json()
    assert not report["celery"]["ok"]
    assert report["celery"]["detail"].endswith("aucun signe de vie d'un worker depuis 30 s")
    worker_heartbeat("celery@test")
    report = monitor.get("/healthz", HTTP_ACCEPT="application/json").json()
    assert report["celery"]["ok"] and "celery_ping" not in report  # the deep check is asked for


def start_worker(database_url):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "-n", "healthz@%h",
         "--loglevel", "WARNING"],
        env={**os.environ, "CELERY_TASK_ALWAYS_EAGER": "0", "DATABASE_URL": database_url},
    )  # fmt: skip


def database_url_of_tests():
    db = django_settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.slow
def test_a_real_worker_beats_and_the_deep_check_pings_it(monitor, db, no_heartbeats):
    worker = start_worker(database_url_of_tests())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            report = monitor.get("/healthz?deep=1", HTTP_ACCEPT="application/json").json()
            if report["celery"]["ok"] and report["celery_ping"]["ok"]:
                break
            time.sleep(0.5)
        assert report["celery"]["detail"] == "1 worker(s)"
        assert report["celery_ping"]["ok"]
    finally:
        worker.terminate()
        worker.wait(20)


def test_it_names_the_running_version_and_pending_migrations(monitor, db):
    report = monitor.get("/healthz", HTTP_ACCEPT="application/json").json()
    assert report["migrations"]["ok"] and report["migrations"]["version"] == metadata.version("aura-portal")
    MigrationRecorder(connection).migration_qs.filter(app="energy", name="0002_monthly_energy").delete()
    health._known_migrations.cache_clear()
    report = monitor.get("/healthz", HTTP_ACCEPT="application/json").json()
    assert (
        not report["migrations"]["ok"] and "1 migration(s) non appliquée(s)" in report["migrations"]["detail"]
    )


def test_the_models_and_their_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # exits non-zero if not


def test_the_deep_check_says_when_next_months_history_partition_is_missing(monitor, db):
    report = monitor.get("/healthz?deep=1", HTTP_ACCEPT="application/json").json()
    assert report["history"]["ok"]
    following = add_months(month_of(timezone.now()), 1)
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute(f'ALTER TABLE devices_reading DETACH PARTITION "{partition_name(following)}"')

    cached = monitor.get("/healthz?deep=1", HTTP_ACCEPT="application/json")
    assert cached.json()["history"]["ok"]  # the deep report is kept a few seconds
    health._deep_cache.clear()  # … which have passed
    response = monitor.get("/healthz?deep=1", HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    detail = f"pas encore de partition d'historique pour {following:%Y-%m}\u00a0: le beat tourne-t-il\u00a0?"
    assert response.json()["history"] == {"ok": False, "detail": detail}
