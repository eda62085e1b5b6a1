"""Storing one batch of poll results in one transaction: each poll under the inverter whose serial it
read, the loggers' and inverters' statuses, the live values and the slot's history row, written
set-based (devices.bulksql); then the layers above are told (devices.signals).

Storage is idempotent: a history row is inserted only after its slot was claimed on the inverter
(a conditional update in the same transaction), so a retried or duplicated task for the same cycle,
even one running at the same time, stores each row once.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from plants.signals import plants_changed

from .bulksql import insert_rows, update_rows
from .models import Datalogger, DeviceStatus, Inverter, InverterLive, PollOutcome, Reading
from .partitions import reading_partition_ready
from .reading import PollResult
from .registermap import HISTORY_FIELDS, RATED_POWER_W, live_values
from .signals import poll_stored

log = logging.getLogger(__name__)

LOGGER_POLL_FIELDS = [
    "status",
    "last_polled_at",
    "last_seen_at",
    "missed_polls",
    "last_error",
    "identity_checked_at",
    "inverter_serial_seen",
]


@dataclass
class StoredBatch:
    """What one batch writes, gathered by steps 1–3 and written by step 4."""

    loggers: list = field(default_factory=list)
    inverters: list = field(default_factory=list)
    live: list = field(default_factory=list)
    readings: list = field(default_factory=list)
    polled: list = field(default_factory=list)  # (logger, inverter or None, result), for the layers above


@transaction.atomic
def store_results(loggers: Sequence[Datalogger], results: Sequence[PollResult], *, slot: datetime) -> None:
    """Store one batch of poll results, in numbered steps, with one outcome per logger:

    1. the logger's inverter, created or re-identified from the identity block when it was read;
    2. the logger's status and words (`05 00` is asleep only when it is plausibly night);
    3. the inverter's status, latest values, grid-sign evidence and this slot's history row;
    4. every row written set-based;
    5. the layers above told (devices.signals): plant statuses refreshed, alarms opened and cleared.
    """
    by_id = {lg.id: lg for lg in loggers}
    batch = StoredBatch()
    for result in results:
        if result.outcome == PollOutcome.BUSY:
            continue
        logger = by_id[result.logger_id]
        inverter = _inverter_for(logger, result)  # 1
        _record_logger(logger, inverter, result)  # 2
        batch.loggers.append(logger)
        if inverter is not None:  # 3
            _record_inverter(batch, logger, inverter, result, slot)
        batch.polled.append((logger, inverter, result))
    _write(batch, slot)  # 4
    plants_changed.send(sender=Datalogger, plant_ids={logger.plant_id for logger in loggers})  # 5
    poll_stored.send(sender=Datalogger, polled=batch.polled)


def _record_logger(logger: Datalogger, inverter: Inverter | None, result: PollResult) -> None:
    night = result.outcome == PollOutcome.NO_INVERTER and logger.plant.is_plausibly_night(
        result.at, last_pv=(inverter.latest.get("pv_power") if inverter else None)
    )
    if result.identity_asked:
        logger.identity_checked_at = result.at
    logger.record_poll(
        outcome=result.outcome,
        at=result.at,
        night=night,
        # A new serial seen once (a replacement, pending a second read) is still an identified one.
        identified=inverter is not None or bool(logger.inverter_serial_seen),
        error=result.error or result.identity_error,
    )


def _record_inverter(
    batch: StoredBatch, logger: Datalogger, inverter: Inverter, result: PollResult, slot: datetime
) -> None:
    row = _inverter_outcome(logger, inverter, result, slot)
    # A first look at the slot as loaded; the claim in step 4 decides.
    if row is not None and (inverter.history_slot is None or inverter.history_slot < slot):
        batch.readings.append(row)
    batch.inverters.append(inverter)
    if result.ok:
        batch.live.append(inverter.live)


def _write(batch: StoredBatch, slot: datetime) -> None:
    update_rows(Datalogger, batch.loggers, LOGGER_POLL_FIELDS)
    claimed = _slot_claimed(batch.inverters, batch.readings, slot)
    update_rows(
        Inverter,
        [inverter for inverter in batch.inverters if inverter.pk not in claimed],
        INVERTER_POLL_FIELDS,
    )
    insert_rows(
        InverterLive,
        batch.live,
        ["inverter", "values", "at"],
        on_conflict='(inverter_id) DO UPDATE SET "values" = EXCLUDED."values", at = EXCLUDED.at',
    )
    if batch.readings:
        reading_partition_ready(slot=slot)
        claimed_rows = [row for row in batch.readings if row.inverter_id in claimed]
        insert_rows(Reading, claimed_rows, ["inverter", "slot", *HISTORY_FIELDS])


def _inverter_outcome(
    logger: Datalogger, inverter: Inverter, result: PollResult, slot: datetime
) -> Reading | None:
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


def _slot_claimed(inverters: Sequence[Inverter], readings: Sequence[Reading], slot: datetime) -> set[int]:
    """Claim `slot` on the inverters that have a history row for it, with the rest of their poll's
    update in the same statement (one new row version per poll: HOT updates keep fitting in the
    page's free half); returns the ids of those whose slot was free. The history has no unique
    index: this conditional update keeps it one row per slot (docs/architecture/invariants.md). A concurrent
    poll of the same slot waits on the row lock, then finds the slot taken (PostgreSQL checks the
    condition again on the row it waited for) and leaves the row to the plain update. A late poll
    of an earlier slot claims nothing either: that slot's row may be there already."""
    wanting = {row.inverter_id for row in readings}
    candidates = [inverter for inverter in inverters if inverter.pk in wanting]
    for inverter in candidates:
        inverter.history_slot = slot
    return update_rows(
        Inverter,
        candidates,
        [*INVERTER_POLL_FIELDS, "history_slot"],
        condition="t.history_slot IS NULL OR t.history_slot < v.history_slot",
    )


IDENTITY_FIELDS = [
    "model_name",
    "battery_name",
    "firmware_arm",
    "firmware_dsp",
    "rated_power_w",
    "info_read_at",
]


def _inverter_for(logger: Datalogger, result: PollResult) -> Inverter | None:
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


def _serial_read(result: PollResult) -> str:
    serial = (result.values.get("serial_number") or result.identity.get("serial_number") or "").strip()
    return serial if serial.isascii() and serial.isalnum() else ""


def _end(inverter: Inverter | None, at: datetime) -> None:
    if inverter is not None and inverter.ended_at is None:
        inverter.ended_at = at
        Inverter.objects.filter(pk=inverter.pk).update(ended_at=at)


def _replacement(logger: Datalogger, current: Inverter | None, serial: str, at: datetime) -> Inverter:
    """A new inverter row behind `logger` (the first one, or one replacing `current`)."""
    _end(current, at)
    inverter = Inverter.objects.create(
        datalogger=logger, serial_number=serial, replaces=current, first_seen_at=at
    )
    if current is not None:
        log.warning("Logger %s: inverter %s replaced by %s", logger.serial_number, current, serial)
    return inverter


def _identify(inverter: Inverter, result: PollResult) -> None:
    identity = result.identity
    inverter.model_name = identity.get("model_name", "")
    inverter.battery_name = identity.get("battery_name", "")
    inverter.firmware_arm = str(identity.get("firmware_arm") or "")[:16]
    inverter.firmware_dsp = str(identity.get("firmware_dsp") or "")[:16]
    model_code = result.values.get("model_code")
    inverter.rated_power_w = None if model_code is None else RATED_POWER_W.get(model_code)
    inverter.info_read_at = result.at
    # The identity only: the rest of the row as loaded may be stale (another worker's history claim).
    inverter.save(update_fields=IDENTITY_FIELDS)
