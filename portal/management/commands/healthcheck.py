"""python manage.py healthcheck worker|beat: the container health checks of the Celery roles.

Each answers from what the role itself last wrote in Redis (core.heartbeat), so that a check
costs a Redis read and says what a running process does, not only that it exists:
- worker: this host's worker (celery@HOSTNAME) sent a heartbeat within three beats and reached the
  database;
- beat: a poll cycle was sent within three poll intervals.
Exit 0 when healthy, 1 with the reason otherwise.
"""

import socket
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.heartbeat import (
    WORKER_HEARTBEAT_SECONDS,
    WORKERS_KEY,
    WORKERS_WITHOUT_DATABASE_KEY,
    poll_cycle_age,
)
from core.redisconn import redis_client


class Command(BaseCommand):
    help = "Exit 0 if this container's Celery role (worker or beat) is doing its work, 1 otherwise."

    def add_arguments(self, parser):
        parser.add_argument("role", choices=["worker", "beat"])
        parser.add_argument("--hostname", default=f"celery@{socket.gethostname()}", help="the worker's name")

    def handle(self, *args, role, hostname, **opts):
        try:
            reason = _worker(hostname) if role == "worker" else _beat()
        except Exception as e:  # Redis unreachable: the role cannot be seen working
            reason = f"cannot read the heartbeats: {e}"
        if reason:
            raise CommandError(reason)
        self.stdout.write("ok")


def _worker(hostname):
    client = redis_client()
    recent = time.time() - 3 * WORKER_HEARTBEAT_SECONDS
    if (client.zscore(WORKERS_KEY, hostname) or 0) >= recent:
        return None
    if (client.zscore(WORKERS_WITHOUT_DATABASE_KEY, hostname) or 0) >= recent:
        return f"{hostname} cannot reach the database"
    return f"no heartbeat from {hostname} for {3 * WORKER_HEARTBEAT_SECONDS} s"


def _beat():
    age = poll_cycle_age()
    if age is None or age > 3 * settings.POLL_INTERVAL_SECONDS:
        return "no poll cycle sent lately" if age is None else f"no poll cycle sent for {age:.0f} s"
    return None
