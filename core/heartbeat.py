"""Heartbeats in Redis, read by /healthz: each Celery worker's (with whether it reaches the database)
and the beat's (the time it last sent a poll cycle). No Django models here: the Celery app imports
it before Django is set up."""

import time

from .redisconn import redis_client

WORKER_HEARTBEAT_SECONDS = 10
WORKERS_KEY = "aura:workers"  # sorted set: worker hostname → time of its last heartbeat
# Workers alive but unable to reach the database: they take tasks and lose them.
WORKERS_WITHOUT_DATABASE_KEY = "aura:workers:no-database"
POLL_CYCLE_KEY = "aura:beat:poll-cycle-at"  # when the beat last sent a poll cycle (Unix time)


def worker_heartbeat(hostname: str, *, database_ok: bool = True) -> None:
    """A worker is alive now (called by each worker every WORKER_HEARTBEAT_SECONDS), with whether its
    last database check passed."""
    client = redis_client()
    now = time.time()
    alive, gone = (
        (WORKERS_KEY, WORKERS_WITHOUT_DATABASE_KEY)
        if database_ok
        else (WORKERS_WITHOUT_DATABASE_KEY, WORKERS_KEY)
    )
    client.zadd(alive, {hostname: now})
    client.zrem(gone, hostname)
    client.zremrangebyscore(alive, 0, now - 3600)  # workers gone for an hour are forgotten


def poll_cycle_sent() -> None:
    """The beat's liveness, as the work it does: a poll cycle was just sent."""
    redis_client().set(POLL_CYCLE_KEY, time.time())


def poll_cycle_age() -> float | None:
    """Seconds since the last poll cycle was sent; None if none ever was."""
    value = redis_client().get(POLL_CYCLE_KEY)
    return None if value is None else time.time() - float(value)
