"""Reachability of what the portal needs: the database, Redis, and at least one Celery worker."""

import redis
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from devices.hubstate import hub_status
from devices.models import Datalogger, Reach
from portal.celery import app


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis():
    redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()


def _celery():
    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError(_("no worker answered"))
    return _("%(count)d worker(s)") % {"count": len(replies)}


def _hub():
    """The logger hub, when some logger calls in: up, and how many sticks are connected."""
    status = hub_status()
    if not status["up"]:
        if Datalogger.objects.active().filter(reach=Reach.HUB).exists():
            raise RuntimeError(_("not running, and loggers call in"))
        return _("not running (no logger calls in)")
    return _("up, %(count)d stick(s) connected") % {"count": status["sticks"]}


def health_report():
    report = {}
    for name, probe in (("database", _database), ("redis", _redis)):
        try:
            probe()
            report[name] = {"ok": True, "detail": _("reachable")}
        except Exception as exc:  # any failure is the answer, reported in words
            report[name] = {"ok": False, "detail": _("unreachable: %(error)s") % {"error": exc}}
    if report["redis"]["ok"]:
        try:
            report["celery"] = {"ok": True, "detail": _celery()}
        except Exception as exc:
            report["celery"] = {"ok": False, "detail": _("unreachable: %(error)s") % {"error": exc}}
    else:
        # Workers are reached through Redis: with Redis down, nothing can be known of them.
        report["celery"] = {"ok": False, "detail": _("unknown: the broker (Redis) is down")}
    if report["redis"]["ok"]:
        try:
            report["hub"] = {"ok": True, "detail": _hub()}
        except Exception as exc:
            report["hub"] = {"ok": False, "detail": _("unreachable: %(error)s") % {"error": exc}}
    return report
