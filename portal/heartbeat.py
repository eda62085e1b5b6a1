"""Workers' heartbeats in Redis: written by each Celery worker, read by /healthz (no Django models
here: the Celery app imports it before Django is set up)."""

import time

from .redisconn import redis_client

WORKER_HEARTBEAT_SECONDS = 10
WORKERS_KEY = "aura:workers"  # sorted set: worker hostname → time of its last heartbeat


def worker_heartbeat(hostname):
    """A worker is alive now (called by each worker every WORKER_HEARTBEAT_SECONDS)."""
    client = redis_client()
    now = time.time()
    client.zadd(WORKERS_KEY, {hostname: now})
    client.zremrangebyscore(WORKERS_KEY, 0, now - 3600)  # workers gone for an hour are forgotten
