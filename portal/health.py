"""Reachability of what the portal needs: the database, Redis, and at least one Celery worker."""

import functools
import time
from importlib import metadata

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

from core.heartbeat import WORKER_HEARTBEAT_SECONDS, WORKERS_KEY, WORKERS_WITHOUT_DATABASE_KEY, poll_cycle_age
from core.redisconn import redis_client
from devices.hubstate import hub_status
from devices.models import Datalogger, Reach
from devices.partitions import add_months, month_of, partition_month, partition_name, reading_partitions
from portal.celery import app


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return _("reachable")


def _redis():
    redis_client().ping()
    return _("reachable")


def _celery():
    """Workers whose heartbeat is at most three beats old and who reach the database: a Redis read
    or two, milliseconds."""
    since = time.time() - 3 * WORKER_HEARTBEAT_SECONDS
    alive = redis_client().zcount(WORKERS_KEY, since, "+inf")
    if not alive:
        if without := redis_client().zcount(WORKERS_WITHOUT_DATABASE_KEY, since, "+inf"):
            raise RuntimeError(_("%(count)d worker(s) cannot reach the database") % {"count": without})
        raise RuntimeError(
            _("no worker heartbeat for %(seconds)d s") % {"seconds": 3 * WORKER_HEARTBEAT_SECONDS}
        )
    return _("%(count)d worker(s)") % {"count": alive}


def _beat():
    """The beat sends a poll cycle every POLL_INTERVAL_SECONDS: three missed, it is not running."""
    age = poll_cycle_age()
    limit = 3 * settings.POLL_INTERVAL_SECONDS
    if age is None:
        raise RuntimeError(_("no poll cycle sent yet: is the beat running?"))
    if age > limit:
        raise RuntimeError(_("no poll cycle sent for %(seconds)d s: is the beat running?") % {"seconds": age})
    return _("last poll cycle sent %(seconds)d s ago") % {"seconds": age}


def _celery_ping():
    """The deep check: the workers answer a ping through the broker (waits up to a second)."""
    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError(_("no worker answered"))
    return _("%(count)d worker(s) answered") % {"count": len(replies)}


@functools.cache
def _version():
    """The installed portal's version (read from its package metadata once per process)."""
    return metadata.version("aura-portal")


@functools.cache
def _known_migrations():
    """Every migration this code ships (read from disk once per process)."""
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _migrations():
    """The running version, and the migrations it ships that the database has not applied."""
    pending = _known_migrations() - set(MigrationRecorder(connection).applied_migrations())
    version = _version()
    if pending:
        detail = _("version %(version)s, %(count)d migration(s) not applied: run migrate") % {
            "version": version,
            "count": len(pending),
        }
        return {"ok": False, "detail": detail, "version": version}
    detail = _("version %(version)s, database up to date") % {"version": version}
    return {"ok": True, "detail": detail, "version": version}


def _history():
    """The history's partitions are made ahead by the daily beat task: next month's must exist, or
    polls will be making it themselves from the 1st (and the beat is not running)."""
    following = add_months(month_of(timezone.now()), 1)
    partitions = reading_partitions()
    if partition_name(following) not in partitions:
        return {"ok": False, "detail": _("no history partition for %(month)s yet: is the beat running?")
                % {"month": f"{following:%Y-%m}"}}  # fmt: skip
    return {"ok": True, "detail": _("history partitions ready until %(month)s")
            % {"month": f"{partition_month(partitions[-1]):%Y-%m}"}}  # fmt: skip


def _hub():
    """The logger hubs, when some logger calls in: up, how many, and how many sticks they hold."""
    status = hub_status()
    if not status["up"]:
        if Datalogger.objects.active().filter(reach=Reach.HUB).exists():
            raise RuntimeError(_("not running, and loggers call in"))
        return _("not running (no logger calls in)")
    return _("up (%(hubs)d hub(s)), %(count)d stick(s) connected") % {
        "hubs": status["hubs"],
        "count": status["sticks"],
    }


def _check(probe):
    try:
        return {"ok": True, "detail": probe()}
    except Exception as exc:  # any failure is the answer, reported in words
        return {"ok": False, "detail": _("unreachable: %(error)s") % {"error": exc}}


_deep_cache = {}  # the last deep report and when it was made: {"at": monotonic time, "report": …}


def health_report(*, deep=False):
    """What is up, in words. The quick report reads the heartbeats; `deep` (for monitoring) also
    pings the workers through the broker and checks that next month has its history partition, and
    is kept for HEALTHZ_DEEP_CACHE_SECONDS (it waits up to a second for the ping)."""
    if deep:
        cached = _deep_cache.get("report")
        if cached and time.monotonic() - _deep_cache["at"] < settings.HEALTHZ_DEEP_CACHE_SECONDS:
            return cached
        _deep_cache.update(report=_report(deep=True), at=time.monotonic())
        return _deep_cache["report"]
    return _report(deep=False)


def _report(*, deep):
    report = {"database": _check(_database), "redis": _check(_redis)}
    if report["database"]["ok"]:
        report["migrations"] = _migrations()
    if report["redis"]["ok"]:
        report["celery"] = _check(_celery)
        report["beat"] = _check(_beat)
        if deep:
            report["celery_ping"] = _check(_celery_ping)
        report["hub"] = _check(_hub)
    else:
        # Workers are reached through Redis: with Redis down, nothing can be known of them.
        report["celery"] = {"ok": False, "detail": _("unknown: the broker (Redis) is down")}
        report["beat"] = {"ok": False, "detail": _("unknown: the broker (Redis) is down")}
    if deep and report["database"]["ok"]:
        report["history"] = _history()
    return report
