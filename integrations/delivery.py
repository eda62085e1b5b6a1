"""Sending one webhook request: the signature, the target check and the POST. Changes no state; the
actions in `services` record what happened."""

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.network import ip_allowed, resolve
from devices.messages import Message, define

NOT_HTTP = define("webhook_not_http", _("Only http:// and https:// addresses."))
BAD_PORT = define("webhook_bad_port", _("The port is not a number from 1 to 65535."))
NO_ADDRESS = define("webhook_no_address", _("The name “%(host)s” does not resolve to any address."))
NOT_ALLOWED = define(
    "webhook_not_allowed", _("This address is in a private or reserved range, which webhooks may not reach.")
)
TIMEOUT = define("webhook_timeout", _("No answer within %(seconds)s s."))
TLS_FAILED = define("webhook_tls", _("TLS failed: %(reason)s"))
CONNECTION_FAILED = define("webhook_connection", _("Connection failed: %(reason)s"))
NOT_2XX = define("webhook_http_status", _("Answered HTTP %(code)s, not 2xx."))

USER_AGENT = "AURA-portal-webhooks/1"
ANSWER_BYTES = 4096  # what is read of an answer: its status is what counts


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `AURA-Signature` header: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The time is
    signed with the body so that a receiver can refuse an old request replayed (docs/webhooks.md)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def target_problem(url: str) -> Message | None:
    """Why the portal may not POST to `url` now, or None. Every address the name resolves to must be
    public or in WEBHOOK_ALLOWED_NETWORKS: a webhook must not reach the portal's own network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Message(NOT_HTTP)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return Message(BAD_PORT)
    addresses = resolve(parts.hostname, port)
    if not addresses:
        return Message(NO_ADDRESS, {"host": parts.hostname})
    if not all(ip_allowed(address, settings.WEBHOOK_ALLOWED_NETWORKS) for address in addresses):
        return Message(NOT_ALLOWED)
    return None


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    error: Message | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url`, connecting to an address checked now (not one a second DNS answer could
    swap in), without following redirects, within WEBHOOK_TIMEOUT_SECONDS."""
    started = time.monotonic()

    def answer(status_code: int | None, error: Message | None = None) -> Answer:
        return Answer(status_code, round((time.monotonic() - started) * 1000), error)

    problem = target_problem(url)
    if problem:
        return answer(None, problem)
    parts = urlsplit(url)
    host, https = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = resolve(host, port)[0]
    if not ip_allowed(address, settings.WEBHOOK_ALLOWED_NETWORKS):  # the name changed since the check
        return answer(None, Message(NOT_ALLOWED))
    timeout = urllib3.Timeout(connect=settings.WEBHOOK_TIMEOUT_SECONDS, read=settings.WEBHOOK_TIMEOUT_SECONDS)
    pool: urllib3.HTTPConnectionPool
    if https:
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=host, assert_hostname=host
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        with pool:
            response = pool.urlopen(
                "POST",
                path,
                body=body,
                headers={**headers, "Host": parts.netloc.rpartition("@")[2], "User-Agent": USER_AGENT},
                redirect=False,
                preload_content=False,
            )
            response.read(ANSWER_BYTES)
            response.release_conn()
    except urllib3.exceptions.TimeoutError:
        return answer(None, Message(TIMEOUT, {"seconds": settings.WEBHOOK_TIMEOUT_SECONDS}))
    except urllib3.exceptions.SSLError as e:
        return answer(None, Message(TLS_FAILED, {"reason": str(e)[:200]}))
    except (urllib3.exceptions.HTTPError, OSError) as e:
        return answer(None, Message(CONNECTION_FAILED, {"reason": str(e)[:200]}))
    status = response.status
    return answer(status, None if 200 <= status < 300 else Message(NOT_2XX, {"code": status}))
