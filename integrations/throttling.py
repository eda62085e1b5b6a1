"""Each API token's quota: API_TOKEN_QUOTA requests per API_TOKEN_QUOTA_SECONDS, counted in Redis so
that every web process counts the same requests; past it, 429 with Retry-After (DRF's throttling)."""

import logging
import time
from typing import Any

import redis
from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from core.redisconn import redis_client

from .models import ApiToken

log = logging.getLogger(__name__)


class ApiTokenQuota(BaseThrottle):
    """A fixed window per token: one atomic INCR per request. Requests of a logged-in session are not
    counted (the pages are a person's, not a tool's)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        period = settings.API_TOKEN_QUOTA_SECONDS
        now = time.time()
        window = int(now // period)
        key = f"aura:quota:{token.digest[:16]}:{window}"  # the secret's, never a reused id's
        try:
            pipe = redis_client().pipeline()
            pipe.incr(key)
            pipe.expire(key, period + 1)
            count, _ = pipe.execute()
        except redis.RedisError:
            # A Redis down must not take the API down with it: the request is served, not counted.
            log.warning("API quota not counted: Redis unavailable")
            return True
        self.retry_after = (window + 1) * period - now
        return count <= settings.API_TOKEN_QUOTA

    def wait(self) -> float:
        return self.retry_after
