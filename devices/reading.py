"""Reading a batch of dataloggers concurrently (asyncio): no database write happens here.

1. Each logger is read over one connection, blocks one after the other (a stick serves one request
   at a time), under a Redis lock per logger (taken for the whole batch in one round trip), so that
   no two processes ever talk to the same stick at once.
2. A semaphore bounds the connections a worker holds; each logger has a time budget, so a slow or
   dead one costs its own budget and never delays the rest.
"""

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy
from redis.exceptions import RedisError

from . import hubregistry
from .messages import Message, define
from .models import Datalogger, PollOutcome, Protocol, Reach, address_allowed
from .registermap import INFO_PLAN, LIVE_PLAN, sanitise
from .transport import Connection, DeviceError, Endpoint, NoInverterAnswer, Reason, connect, read_values

log = logging.getLogger(__name__)
LOCK_KEY = "aura:logger-lock:{}"
NETWORK_REASONS = {Reason.REFUSED, Reason.TIMEOUT, Reason.DROPPED, Reason.GARBAGE}
NO_LOGGER = define(
    "no_logger",
    gettext_lazy(
        "No datalogger answered at this address and port: check the address, the port, and that the "
        "logger is powered and on the network."
    ),
)
NO_VALID_ANSWER = define("no_valid_answer", gettext_lazy("The logger gave no valid answer in time."))
UNEXPECTED = define(
    "unexpected", gettext_lazy("Unexpected error while reading the logger; see the worker log.")
)
NO_IDENTITY_READ = define(
    "no_identity_read",
    gettext_lazy("The inverter's identity could not be read (serial number, model, firmware)."),
)
NO_INVERTER_SERIAL = define("no_inverter_serial", gettext_lazy("The inverter gave no serial number."))
REMOVED = define("removed", gettext_lazy("Removed."))


@dataclass
class PollResult:
    logger_id: int
    outcome: PollOutcome = PollOutcome.FAILED
    values: dict[str, Any] = field(default_factory=dict)  # live values, decoded and sanitised
    identity: dict[str, Any] = field(default_factory=dict)  # identity block, when it was due and answered
    identity_asked: bool = False
    identity_error: Message | None = None
    error: Message | None = None  # why the poll failed, rendered in each reader's language
    at: datetime = field(default_factory=timezone.now)  # when the reading ended
    seconds: float | None = None  # how long the logger took to answer (or not)

    @property
    def ok(self) -> bool:
        return self.outcome == PollOutcome.OK


def endpoint_for(logger: Datalogger, relay: tuple[str, int] | None = None) -> Endpoint:
    """How to reach `logger`: through the relay of the hub holding its stick (`relay`, from
    `hub_relays`; the default relay when no hub holds it), or at its address (allowed ranges only)."""
    if logger.reach == Reach.HUB:
        host, port = relay or (settings.LOGGER_HUB_RELAY_HOST, settings.LOGGER_HUB_RELAY_PORT)
        return Endpoint(
            Protocol.SOLARMAN_V5,
            host,
            port,
            int(logger.serial_number),
            logger.unit_id,
            settings.DEVICE_TIMEOUT_SECONDS,
            settings.DEVICE_RETRIES,
            settings.DEVICE_REQUEST_GAP_SECONDS,
            via_hub=True,
        )
    return Endpoint.for_logger(
        logger,
        timeout=settings.DEVICE_TIMEOUT_SECONDS,
        retries=settings.DEVICE_RETRIES,
        gap=settings.DEVICE_REQUEST_GAP_SECONDS,
        allowed=address_allowed,
    )


async def hub_relays(redis: aioredis.Redis, loggers: Sequence[Datalogger]) -> dict[int, tuple[str, int]]:
    """{logger id: relay} of the loggers that call in, from the hub registry in one round trip per
    2,000 sticks. Redis unreachable: {} (each is read through the default relay)."""
    serials = {int(lg.serial_number): lg.id for lg in loggers if lg.reach == Reach.HUB}
    if not serials:
        return {}
    try:
        where = await hubregistry.locate(redis, list(serials))
    except (RedisError, OSError):
        return {}
    return {serials[serial]: relay for serial, relay in where.items()}


async def endpoint_of(logger: Datalogger) -> Endpoint:
    """`endpoint_for(logger)`, its hub looked up now (a remote-control read or write)."""
    redis = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        return endpoint_for(logger, (await hub_relays(redis, [logger])).get(logger.id))
    finally:
        await redis.aclose()


async def _read_one(
    logger: Datalogger, need_info: bool, semaphore: asyncio.Semaphore, relay: tuple[str, int] | None
) -> PollResult:
    """1. live blocks (the poll's outcome); 2. the identity block when due, whose failure is said
    in words but does not undo the live values."""
    result = PollResult(logger.id)
    started = time.monotonic()
    ep = endpoint_for(logger, relay)
    # Worst case: every block times out on each attempt, plus the gaps between blocks.
    budget = (len(LIVE_PLAN) + len(INFO_PLAN)) * ep.timeout * (ep.retries + 1) + 2
    async with semaphore:
        try:
            async with asyncio.timeout(budget), connect(ep) as conn:
                result.values = await read_values(conn, LIVE_PLAN)
                result.outcome = PollOutcome.OK
                if need_info:
                    result.identity_asked = True
                    result.identity, result.identity_error = await _read_identity(conn)
        except NoInverterAnswer:
            result.outcome = PollOutcome.NO_INVERTER
        except DeviceError as e:
            result.error = e.message
            if e.reason in NETWORK_REASONS and logger.last_seen_at is None:
                # Never seen: whether the port is closed, silent or speaks something else would map
                # the portal's network for whoever typed the address. Say one thing.
                result.error = Message(NO_LOGGER)
        except TimeoutError:
            result.error = Message(NO_VALID_ANSWER)
        except Exception:  # a worker must survive any reply; say it and carry on
            log.exception("Unexpected failure polling logger %s", logger.serial_number)
            result.error = Message(UNEXPECTED)
        finally:
            result.at, result.seconds = timezone.now(), time.monotonic() - started
    if dropped := sanitise(result.values):
        log.warning("Logger %s: discarded values outside their limits: %s", logger.serial_number, dropped)
    return result


async def _read_identity(conn: Connection) -> tuple[dict[str, Any], Message | None]:
    """The identity block and, when it cannot be read, why (a Message)."""
    try:
        identity = await read_values(conn, INFO_PLAN)
    except (DeviceError, NoInverterAnswer):
        return {}, Message(NO_IDENTITY_READ)
    if not identity.get("serial_number"):
        return {}, Message(NO_INVERTER_SERIAL)
    return identity, None


async def read_loggers(loggers: Sequence[Datalogger], need_info: Mapping[int, bool]) -> list[PollResult]:
    """Read every logger this process could lock; the others are reported busy."""
    redis = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        locked = await _lock(redis, loggers)
        relays = await hub_relays(redis, [lg for lg in loggers if lg.id in locked])
        semaphore = asyncio.Semaphore(settings.POLL_CONCURRENCY)
        try:
            return await asyncio.gather(
                *(
                    _read_one(lg, need_info[lg.id], semaphore, relays.get(lg.id))
                    if lg.id in locked
                    else _busy(lg)
                    for lg in loggers
                )
            )
        finally:
            await _unlock(redis, [lg for lg in loggers if lg.id in locked])
    finally:
        await redis.aclose()


async def _busy(logger: Datalogger) -> PollResult:
    return PollResult(logger.id, outcome=PollOutcome.BUSY, at=timezone.now())


async def _lock(redis: aioredis.Redis, loggers: Sequence[Datalogger]) -> set[int]:
    """Take every logger's lock in one round trip (SET NX); returns the ids this process holds.

    The lock lives as long as a task may run, so it is released by us, never taken over mid-read.
    """
    ttl = int(settings.CELERY_TASK_TIME_LIMIT * 1000) + 5000
    async with redis.pipeline(transaction=False) as pipe:
        for logger in loggers:
            pipe.set(LOCK_KEY.format(logger.serial_number), 1, nx=True, px=ttl)
        acquired = await pipe.execute()
    return {logger.id for logger, ok in zip(loggers, acquired, strict=True) if ok}


async def _unlock(redis: aioredis.Redis, loggers: Iterable[Datalogger]) -> None:
    if loggers:
        await redis.delete(*(LOCK_KEY.format(logger.serial_number) for logger in loggers))
