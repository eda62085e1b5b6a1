"""Reachability of what the portal needs: the database, Redis, and at least one Celery worker."""

import time

from django.db import connection
from django.utils.translation import gettext as _

from devices.hubstate import hub_status
from devices.models import Datalogger, Reach
from portal.celery import app

from .heartbeat import WORKER_HEARTBEAT_SECONDS, WORKERS_KEY, redis_client


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis():
    redis_client().ping()


def _celery():
    """Workers whose heartbeat is at most three beats old: one Redis read, milliseconds."""
    alive = redis_client().zcount(WORKERS_KEY, time.time() - 3 * WORKER_HEARTBEAT_SECONDS, "+inf")
    if not alive:
        raise RuntimeError(
            _("no worker heartbeat for %(seconds)d s") % {"seconds": 3 * WORKER_HEARTBEAT_SECONDS}
        )
    return _("%(count)d worker(s)") % {"count": alive}


def _celery_ping():
    """The deep check: the workers answer a ping through the broker (waits up to a second)."""
    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError(_("no worker answered"))
    return _("%(count)d worker(s) answered") % {"count": len(replies)}


def _hub():
    """The logger hub, when some logger calls in: up, and how many sticks are connected."""
    status = hub_status()
    if not status["up"]:
        if Datalogger.objects.active().filter(reach=Reach.HUB).exists():
            raise RuntimeError(_("not running, and loggers call in"))
        return _("not running (no logger calls in)")
    return _("up, %(count)d stick(s) connected") % {"count": status["sticks"]}


def health_report(*, deep=False):
    """What is up, in words. The quick report reads the workers' heartbeats; `deep` (for monitoring)
    also pings them through the broker."""
    report = {}
    for name, probe in (("database", _database), ("redis", _redis)):
        try:
            probe()
            report[name] = {"ok": True, "detail": _("reachable")}
        except Exception as exc:  # any failure is the answer, reported in words
            report[name] = {"ok": False, "detail": _("unreachable: %(error)s") % {"error": exc}}
    if report["redis"]["ok"]:
        for name, probe in (("celery", _celery), *((("celery_ping", _celery_ping),) if deep else ())):
            try:
                report[name] = {"ok": True, "detail": probe()}
            except Exception as exc:
                report[name] = {"ok": False, "detail": _("unreachable: %(error)s") % {"error": exc}}
    else:
        # Workers are reached through Redis: with Redis down, nothing can be known of them.
        report["celery"] = {"ok": False, "detail": _("unknown: the broker (Redis) is down")}
    if report["redis"]["ok"]:
        try:
            report["hub"] = {"ok": True, "detail": _hub()}
        except Exception as exc:
            report["hub"] = {"ok": False, "detail": _("unreachable: %(error)s") % {"error": exc}}
    return report
