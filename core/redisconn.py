"""The portal's synchronous Redis client: one per process and URL (its connection pool is reused),
with short timeouts so that a Redis that is down is reported at once, never waited for."""

import functools

import redis
from django.conf import settings


def redis_client() -> redis.Redis:
    return _client_for(settings.REDIS_URL)


@functools.lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
