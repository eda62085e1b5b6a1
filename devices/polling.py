"""Polling: read a batch of dataloggers concurrently, then store values, statuses and history.

1. Each logger is read over one connection, blocks one after the other (a stick serves one request
   at a time), under a Redis lock per logger (taken for the whole batch in one round trip), so that
   no two processes ever talk to the same stick at once.
2. A semaphore bounds the connections a worker holds; each logger has a time budget, so a slow or
   dead one costs its own budget and never delays the rest.
3. Storage is idempotent: a history row is inserted only after its slot was claimed on the inverter
   (a conditional update in the same transaction), so a retried or duplicated task for the same
   cycle, even one running at the same time, stores each row once.
"""

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
import redis.asyncio as aioredis
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from alarms.services import alarms_from_poll
from alarms.tasks import notify_alarm
from plants.models import Plant
from portal.metrics import polls_observed

from .fields import Bits32Field, ScaledIntegerField
from .messages import Message, define
from .models import (
    Datalogger,
    DeviceStatus,
    Inverter,
    InverterLive,
    PollOutcome,
    Protocol,
    Reach,
    Reading,
    address_allowed,
)
from .partitions import reading_partition_ready
from .registermap import HISTORY_FIELDS, INFO_PLAN, LIVE_PLAN, RATED_POWER_W, live_values, sanitise
from .transport import DeviceError, Endpoint, NoInverterAnswer, Reason, connect, read_values

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
    values: dict = field(default_factory=dict)  # live values, decoded and sanitised
    identity: dict = field(default_factory=dict)  # identity block, when it was due and answered
    identity_asked: bool = False
    identity_error: Message | None = None
    error: Message | None = None  # why the poll failed, rendered in each reader's language
    at: datetime | None = None
    seconds: float | None = None  # how long the logger took to answer (or not)

    @property
    def ok(self):
        return self.outcome == PollOutcome.OK


def endpoint_for(logger):
    """How to reach `logger`: through the hub's relay, or at its address (allowed ranges only)."""
    if logger.reach == Reach.HUB:
        return Endpoint(
            Protocol.SOLARMAN_V5,
            settings.LOGGER_HUB_RELAY_HOST,
            settings.LOGGER_HUB_RELAY_PORT,
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


async def _read_one(logger, need_info, semaphore):
    """1. live blocks (the poll's outcome); 2. the identity block when due, whose failure is said
    in words but does not undo the live values."""
    result = PollResult(logger.id)
    started = time.monotonic()
    ep = endpoint_for(logger)
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


async def _read_identity(conn):
    """The identity block and, when it cannot be read, why (a Message)."""
    try:
        identity = await read_values(conn, INFO_PLAN)
    except (DeviceError, NoInverterAnswer):
        return {}, Message(NO_IDENTITY_READ)
    if not identity.get("serial_number"):
        return {}, Message(NO_INVERTER_SERIAL)
    return identity, None


async def _read_all(loggers, need_info):
    """Read every logger this process could lock; the others are reported busy."""
    redis = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        locked = await _lock(redis, loggers)
        semaphore = asyncio.Semaphore(settings.POLL_CONCURRENCY)
        try:
            return await asyncio.gather(
                *(
                    _read_one(lg, need_info[lg.id], semaphore) if lg.id in locked else _busy(lg)
                    for lg in loggers
                )
            )
        finally:
            await _unlock(redis, [lg for lg in loggers if lg.id in locked])
    finally:
        await redis.aclose()


async def _busy(logger):
    return PollResult(logger.id, outcome=PollOutcome.BUSY, at=timezone.now())


async def _lock(redis, loggers):
    """Take every logger's lock in one round trip (SET NX); returns the ids this process holds.

    The lock lives as long as a task may run, so it is released by us, never taken over mid-read.
    """
    ttl = int(settings.CELERY_TASK_TIME_LIMIT * 1000) + 5000
    async with redis.pipeline(transaction=False) as pipe:
        for logger in loggers:
            pipe.set(LOCK_KEY.format(logger.serial_number), 1, nx=True, px=ttl)
        acquired = await pipe.execute()
    return {logger.id for logger, ok in zip(loggers, acquired, strict=True) if ok}


async def _unlock(redis, loggers):
    if loggers:
        await redis.delete(*(LOCK_KEY.format(logger.serial_number) for logger in loggers))


def history_slot(moment):
    """The start of the history slot `moment` falls in (5 minutes by default)."""
    minutes = settings.HISTORY_RESOLUTION_MINUTES
    floored = moment.replace(second=0, microsecond=0)
    return floored - timedelta(minutes=floored.minute % minutes)


def poll_loggers(logger_ids, *, cycle_at=None, force_info=False):
    """Poll these loggers once, store what was read, and update their alarms. Returns the results."""
    loggers = list(
        Datalogger.objects.active()
        .filter(id__in=logger_ids)
        .select_related("plant")
        .prefetch_related("inverters__live")
    )
    if not loggers:
        return []
    now = timezone.now()
    need_info = {
        lg.id: force_info or lg.identity_due(now, identified=bool(lg.inverters.all())) for lg in loggers
    }
    results = asyncio.run(_read_all(loggers, need_info))
    store_results(loggers, results, slot=history_slot(cycle_at or now))
    polls_observed(results)
    return results


@transaction.atomic
def store_results(loggers, results, *, slot):
    """Store one batch of poll results, in numbered steps, with one outcome per logger:

    1. the logger's inverter, created or re-identified from the identity block when it was read;
    2. the logger's status and words (`05 00` is asleep only when it is plausibly night);
    3. the inverter's status, latest values, grid-sign evidence and this slot's history row;
    4. every row written set-based, then alarms opened and cleared from the same results.
    """
    by_id = {lg.id: lg for lg in loggers}
    logger_updates, inverter_updates, live_updates, readings, alarm_input = [], [], [], [], []
    for result in results:
        if result.outcome == PollOutcome.BUSY:
            continue
        logger = by_id[result.logger_id]
        inverter = _inverter_for(logger, result)  # 1
        night = result.outcome == PollOutcome.NO_INVERTER and logger.plant.is_plausibly_night(
            result.at, last_pv=(inverter.latest.get("pv_power") if inverter else None)
        )
        if result.identity_asked:
            logger.identity_checked_at = result.at
        logger.record_poll(  # 2
            outcome=result.outcome,
            at=result.at,
            night=night,
            # A new serial seen once (a replacement, pending a second read) is still an identified one.
            identified=inverter is not None or bool(logger.inverter_serial_seen),
            error=result.error or result.identity_error,
        )
        logger_updates.append(logger)
        if inverter is not None:  # 3
            row = _inverter_outcome(logger, inverter, result, slot)
            # A first look at the slot as loaded; the claim below decides.
            if row is not None and (inverter.history_slot is None or inverter.history_slot < slot):
                readings.append(row)
            inverter_updates.append(inverter)
            if result.ok:
                live_updates.append(inverter.live)
        alarm_input.append((logger, inverter, result))
    _update_rows(  # 4
        Datalogger,
        logger_updates,
        [
            "status",
            "last_polled_at",
            "last_seen_at",
            "missed_polls",
            "last_error",
            "identity_checked_at",
            "inverter_serial_seen",
        ],
    )
    claimed = _slot_claimed(inverter_updates, readings, slot)
    _update_rows(
        Inverter,
        [inverter for inverter in inverter_updates if inverter.pk not in claimed],
        INVERTER_POLL_FIELDS,
    )
    _insert_rows(
        InverterLive,
        live_updates,
        ["inverter", "values", "at"],
        on_conflict='(inverter_id) DO UPDATE SET "values" = EXCLUDED."values", at = EXCLUDED.at',
    )
    if readings:
        reading_partition_ready(slot=slot)
        claimed_rows = [row for row in readings if row.inverter_id in claimed]
        _insert_rows(Reading, claimed_rows, ["inverter", "slot", *HISTORY_FIELDS])
    Plant.objects.filter(pk__in={logger.plant_id for logger in loggers}).refresh_status()
    for alarm in alarms_from_poll(alarm_input):
        notify_alarm.delay_on_commit(alarm.pk)  # and the outbox sweep, should this task be lost


def _inverter_outcome(logger, inverter, result, slot):
    """The inverter's status, last-seen time, live values and grid-sign evidence from this poll;
    returns its history row for the slot (None when nothing is known)."""
    if result.outcome != PollOutcome.FAILED or logger.status == DeviceStatus.OFFLINE:
        inverter.status = logger.status
    if result.outcome != PollOutcome.FAILED:
        inverter.last_seen_at = result.at
    if result.ok:
        live = live_values(result.values)
        local_day = timezone.localtime(result.at, logger.plant.tzinfo).date().isoformat()
        inverter.observe_grid_sign(inverter.latest, live, local_day)
        inverter.live = InverterLive(inverter=inverter, values=live, at=result.at)
        return Reading(inverter=inverter, slot=slot, **{k: live[k] for k in HISTORY_FIELDS})
    if logger.status == DeviceStatus.ASLEEP:
        # Asleep at night: no PV, a known fact for the slot; every other value stays unknown.
        return Reading(inverter=inverter, slot=slot, pv_power=0)
    return None


INVERTER_POLL_FIELDS = ["status", "last_seen_at", "grid_sign_check"]


def _slot_claimed(inverters, readings, slot):
    """Claim `slot` on the inverters that have a history row for it, with the rest of their poll's
    update in the same statement (one new row version per poll: HOT updates keep fitting in the
    page's free half); returns the ids of those whose slot was free. The history has no unique
    index: this conditional update keeps it one row per slot (docs/invariants.md). A concurrent
    poll of the same slot waits on the row lock, then finds the slot taken (PostgreSQL checks the
    condition again on the row it waited for) and leaves the row to the plain update. A late poll
    of an earlier slot claims nothing either: that slot's row may be there already."""
    wanting = {row.inverter_id for row in readings}
    candidates = [inverter for inverter in inverters if inverter.pk in wanting]
    for inverter in candidates:
        inverter.history_slot = slot
    return _update_rows(
        Inverter,
        candidates,
        [*INVERTER_POLL_FIELDS, "history_slot"],
        condition="t.history_slot IS NULL OR t.history_slot < v.history_slot",
    )


def _update_rows(model, objs, fields, *, condition="TRUE"):
    """One UPDATE … FROM unnest(arrays) for many rows (those that meet `condition`, SQL over the
    table `t` and the new values `v`); returns the ids updated. Django's bulk_update builds a CASE
    per row and field, which costs seconds per thousand rows; this costs milliseconds."""
    if not objs:
        return set()
    columns, arrays = _arrays(model, objs, fields)
    assignments = ", ".join(f'"{c.column}" = v."{c.column}"' for c in columns)
    unnest = ", ".join(f"%b::{t}[]" for t in ["bigint", *(c.db_type(connection) for c in columns)])
    names = ", ".join(["id", *(f'"{c.column}"' for c in columns)])
    rows = _execute_binary(
        f'UPDATE "{model._meta.db_table}" AS t SET {assignments} FROM unnest({unnest}) AS v({names}) '
        f"WHERE t.id = v.id AND ({condition}) RETURNING t.id",
        [[obj.pk for obj in objs], *arrays],
    )
    return {pk for (pk,) in rows}


def _insert_rows(model, objs, fields, *, on_conflict=None):
    """One INSERT … SELECT FROM unnest(arrays) for many rows, with its ON CONFLICT clause if any."""
    if not objs:
        return
    columns, arrays = _arrays(model, objs, fields)
    unnest = ", ".join(f"%b::{c.db_type(connection)}[]" for c in columns)
    names = ", ".join(f'"{c.column}"' for c in columns)
    conflict = f" ON CONFLICT {on_conflict}" if on_conflict else ""
    _execute_binary(
        f'INSERT INTO "{model._meta.db_table}" ({names}) SELECT * FROM unnest({unnest}){conflict}', arrays
    )


def _arrays(model, objs, fields):
    columns = [model._meta.get_field(name) for name in fields]
    return columns, [_column_values(c, objs) for c in columns]


def _column_values(column, objs):
    """One column's values as psycopg takes them. Only the fields that change a value on its way to
    the database are asked to (Django's conversion of every int, str and aware datetime, which these
    already are, costs more than the write itself at fleet scale)."""
    values = [getattr(obj, column.attname) for obj in objs]
    if isinstance(column, ScaledIntegerField | Bits32Field | models.JSONField):
        return [column.get_db_prep_save(value, connection) for value in values]
    return values


def _execute_binary(sql, params):
    """Arrays bound by the server, in binary (%b): psycopg sends each as it is, where Django's
    client-side binding quotes every element into the SQL text (seconds per 10,000-row batch)."""
    connection.ensure_connection()
    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
    if connection.queries_logged:  # logged as Django's own cursors log (tests, debug views)
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return rows


IDENTITY_FIELDS = ["model_name", "battery_name", "firmware", "rated_power_w", "info_read_at"]


def _inverter_for(logger, result):
    """The inverter this poll is stored under: the one whose serial it read (see Inverter).

    1. No serial read (asleep, refused, junk): the logger's current inverter, if any.
    2. The current inverter's serial: it.
    3. An inverter of this plant (another logger's, or ended): the same inverter behind a new stick;
       it continues on this logger, and the logger's current one ends.
    4. A new serial, read by two polls in a row: a replacement, pending until confirmed (None for the
       first of the two polls: nothing is stored under either inverter meanwhile).
    The identity block, when it was read, refreshes the model, battery and firmware.
    """
    serial = _serial_read(result)
    inverters = list(logger.inverters.all())
    current = next((inv for inv in inverters if inv.ended_at is None), None)
    seen_before, logger.inverter_serial_seen = (
        logger.inverter_serial_seen,
        serial or logger.inverter_serial_seen,
    )
    if not serial:  # 1
        return current
    inverter = current if current is not None and current.serial_number == serial else None  # 2
    if inverter is None:
        # This logger's own ended row first (the unique key is per logger), then another logger's.
        inverter = next((inv for inv in inverters if inv.serial_number == serial), None)
        inverter = (
            inverter
            or Inverter.objects.filter(datalogger__plant_id=logger.plant_id, serial_number=serial).first()
        )
        if inverter is not None:  # 3
            _end(current, result.at)
            inverter.datalogger, inverter.ended_at = logger, None
            inverter.save(update_fields=["datalogger", "ended_at"])
        elif current is not None and seen_before != serial:  # 4, first sight
            return None
        else:
            inverter = _replacement(logger, current, serial, result.at)
    if result.identity:
        _identify(inverter, result)
    return inverter


def _serial_read(result):
    serial = (result.values.get("serial_number") or result.identity.get("serial_number") or "").strip()
    return serial if serial.isascii() and serial.isalnum() else ""


def _end(inverter, at):
    if inverter is not None and inverter.ended_at is None:
        inverter.ended_at = at
        Inverter.objects.filter(pk=inverter.pk).update(ended_at=at)


def _replacement(logger, current, serial, at):
    """A new inverter row behind `logger` (the first one, or one replacing `current`)."""
    _end(current, at)
    inverter = Inverter.objects.create(
        datalogger=logger, serial_number=serial, replaces=current, first_seen_at=at
    )
    if current is not None:
        log.warning("Logger %s: inverter %s replaced by %s", logger.serial_number, current, serial)
    return inverter


def _identify(inverter, result):
    identity = result.identity
    inverter.model_name = identity.get("model_name", "")
    inverter.battery_name = identity.get("battery_name", "")
    inverter.firmware = f"ARM {identity.get('firmware_arm')} · DSP {identity.get('firmware_dsp')}"
    inverter.rated_power_w = RATED_POWER_W.get(result.values.get("model_code"))
    inverter.info_read_at = result.at
    # The identity only: the rest of the row as loaded may be stale (another worker's history claim).
    inverter.save(update_fields=IDENTITY_FIELDS)


def due_logger_ids():
    """Every active logger the portal can reach (called in, or with an address), in a stable order."""
    loggers = Datalogger.objects.active().filter(Q(reach=Reach.HUB) | ~Q(host=""))
    return list(loggers.order_by("id").values_list("id", flat=True))


def batches(ids, size):
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def datalogger_test_connection(logger):
    """Read the logger now, identity included, and store it like a poll: the commissioning check."""
    (result,) = poll_loggers([logger.id], force_info=True) or [PollResult(logger.id, error=Message(REMOVED))]
    logger.refresh_from_db()
    return result
