"""What /metrics counts that happens in other processes (portal.prometheus serves it).

What happens in other processes (polls in the Celery workers, requests in each gunicorn worker) is
counted in Redis, which every process shares: a counter per poll outcome, and histograms of poll and
request latency (a Redis hash per histogram: one count per bucket, the sum and the count). What is
true now (loggers by status, hub connections, alarms open by severity, queue lengths, the alarm
e-mail outbox) is read at scrape time. Counting never breaks the work it counts: a Redis error is
ignored there.
"""

import time
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from redis.exceptions import RedisError

from .redisconn import redis_client

POLLS = "aura:metrics:polls"  # hash: outcome → polls
POLL_SECONDS = "aura:metrics:poll-seconds"  # histogram hashes: bucket → count, "sum", "count"
REQUEST_SECONDS = "aura:metrics:request-seconds"
POLL_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)


def _observe(pipe: Any, key: str, buckets: tuple[float, ...], seconds: float) -> None:
    for bound in buckets:
        if seconds <= bound:
            pipe.hincrby(key, str(bound), 1)
    pipe.hincrby(key, "+Inf", 1)
    pipe.hincrbyfloat(key, "sum", seconds)


def polls_observed(results: Iterable[Any]) -> None:
    """Count a batch of poll results (PollResult: outcome, seconds) in one round trip."""
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            for result in results:
                pipe.hincrby(POLLS, str(result.outcome), 1)
                if result.seconds is not None:
                    _observe(pipe, POLL_SECONDS, POLL_BUCKETS, result.seconds)
            pipe.execute()
    except RedisError:
        pass


class RequestLatencyMiddleware:
    """Every request's latency in the shared histogram (one pipelined Redis write)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.monotonic()
        response = self.get_response(request)
        try:
            with redis_client().pipeline(transaction=False) as pipe:
                _observe(pipe, REQUEST_SECONDS, REQUEST_BUCKETS, time.monotonic() - started)
                pipe.execute()
        except RedisError:
            pass
        return response
