"""Remote control: read an inverter's settings live, and change them one by one, safely.

1. Only the register map's writable settings, validated against the map before anything is sent.
2. Every attempt is recorded (SettingChange) before it is sent, then its outcome once known.
3. Writes run in a Celery task under the logger's lock (the polling lock), so a write never
   interleaves with a poll or another write on the stick's wire.
4. The old value recorded is the one read from the inverter just before the write, never a client's.
5. Each write is read back: "confirmed" only when the inverter gives the new value back; a refusal
   is worded with the guide's instruction (remote control is enabled on the inverter's screen); a
   connection lost mid-write is "not confirmed", never a success.
"""

import asyncio
import contextlib
import json
import secrets
from datetime import timedelta

import redis.asyncio as aioredis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.redisconn import redis_client

from .messages import Message, define
from .models import Inverter, SettingChange
from .reading import LOCK_KEY, endpoint_of
from .registermap import (
    BY_KEY,
    GUIDE_REMOTE_CONTROL,
    LIVE_PLAN,
    SETTINGS_PLAN,
    Block,
    Group,
    live_values,
    sanitise,
)
from .transport import (
    DeviceError,
    NoInverterAnswer,
    Reason,
    SettingRefused,
    connect,
    read_values,
    setting_word,
    write_setting,
)

RATE_WINDOW = timedelta(minutes=10)


class LoggerBusy(Exception):
    """The stick stayed locked by a poll or another write for longer than we wait."""


# Everything that means "the inverter could not be read now", to be said in words, never a 500.
UNREACHABLE = (DeviceError, NoInverterAnswer, LoggerBusy, TimeoutError, OSError)


@contextlib.asynccontextmanager
async def logger_lock(serial, *, wait):
    """The logger's own lock, the one polls take: wait for it up to `wait` seconds."""
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    key = LOCK_KEY.format(serial)
    deadline = asyncio.get_running_loop().time() + wait
    try:
        while not await client.set(key, "write", nx=True, px=int((wait + 60) * 1000)):
            if asyncio.get_running_loop().time() > deadline:
                raise LoggerBusy
            await asyncio.sleep(0.1)
        try:
            yield
        finally:
            await client.delete(key)
    finally:
        await client.aclose()


def _read_now(inverter, plan, *, wait):
    """Read `plan` from the inverter now, under its logger's lock (a poll or a write waits)."""
    logger = inverter.datalogger

    async def read():
        async with logger_lock(logger.serial_number, wait=wait):
            async with connect(await endpoint_of(logger)) as conn:
                return await read_values(conn, plan)

    return asyncio.run(read())


def settings_read(*, inverter):
    """The current settings, read live from the inverter now (not stored data): {key: value}."""
    values = _read_now(inverter, SETTINGS_PLAN, wait=settings.REMOTE_LOCK_WAIT_SECONDS)
    return {key: value for key, value in values.items() if BY_KEY[key].setting is not None}


def live_read(*, inverter):
    """The live values, read from the stick now (the live session): with the derived sums."""
    values = _read_now(inverter, LIVE_PLAN, wait=settings.LIVE_LOCK_WAIT_SECONDS)
    sanitise(values)
    return live_values(values)


def setting_changes_request(*, inverter, by, new):
    """Record the changes `new` ({key: value}); the caller has them written
    (tasks.apply_setting_changes) once its transaction commits. Refused as a whole, before anything
    is recorded or sent, when a value is not allowed or the inverter had too many writes lately.

    The inverter's row is locked while the recent writes are counted and the new ones inserted, so
    that concurrent requests cannot all pass the limit. The old value is not the client's: the write
    task reads it from the inverter just before writing."""
    if inverter.replacement_pending:
        raise ValidationError(
            _(
                "This inverter replaced %(old)s and no installer has confirmed it: confirm the "
                "replacement on the plant's page before changing its settings."
            )
            % {"old": inverter.replaces.serial_number}
        )
    if not inverter.counted:
        raise ValidationError(_("This inverter was replaced or rejected: its settings cannot be changed."))
    errors = {}
    for key, value in new.items():
        try:
            setting_word(key, value)
        except SettingRefused as e:
            errors[key] = str(e)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Inverter.objects.select_for_update().filter(pk=inverter.pk).first()
        recent = SettingChange.objects.filter(
            inverter=inverter, created_at__gte=timezone.now() - RATE_WINDOW
        ).count()
        if recent + len(new) > settings.REMOTE_WRITES_PER_10_MINUTES:
            raise ValidationError(
                _("Too many changes on this inverter lately (%(n)d in 10 minutes); wait a few minutes.")
                % {"n": settings.REMOTE_WRITES_PER_10_MINUTES}
            )
        plant = inverter.datalogger.plant
        return [
            SettingChange.objects.create(inverter=inverter, plant=plant, by=by, key=key, new_value=value)
            for key, value in new.items()
        ]


BUSY = define("write.busy", gettext_lazy("The logger stayed busy; nothing was sent."))
REFUSED = define(
    "write.refused",
    gettext_lazy(
        "The inverter refused the change (Modbus exception %(code)s). Remote control may be disabled "
        "on its screen. %(instruction)s"
    ),
)
GUIDE = define("guide.remote_control", GUIDE_REMOTE_CONTROL)
ACCEPTED = define("write.accepted", gettext_lazy("Accepted by the inverter."))
READ_BACK = define("write.read_back", gettext_lazy("The inverter reads back %(value)s."))
CONFIRMED = define("write.confirmed", gettext_lazy("Set successfully (read back)."))
NOT_REACHED = define(
    "write.not_reached",
    gettext_lazy(
        "No confirmation: %(why)s The change may or may not have been applied; read the settings again."
    ),
)
NO_ANSWER = define("inverter.no_answer", gettext_lazy("The inverter did not answer."))


def setting_changes_apply(*, change_ids):
    """Write the pending changes one by one under the logger's lock, each read back. Safe to run twice:
    a change already finished is skipped."""
    changes = list(
        SettingChange.objects.filter(pk__in=change_ids, outcome=SettingChange.Outcome.PENDING)
        .select_related("inverter__datalogger__plant")
        .order_by("pk")
    )
    if not changes:
        return []
    logger = changes[0].inverter.datalogger
    try:
        outcomes = asyncio.run(_apply(logger, changes))
    except LoggerBusy:
        outcomes = [(SettingChange.Outcome.NOT_CONFIRMED, Message(BUSY), None)] * len(changes)
    except (DeviceError, NoInverterAnswer, TimeoutError, OSError) as e:
        outcomes = [(SettingChange.Outcome.NOT_CONFIRMED, not_reached(e), None)] * len(changes)
    for change, (outcome, answer, old) in zip(changes, outcomes, strict=False):
        change.finish(outcome, answer, old_value=old)
    return outcomes


async def _apply(logger, changes):
    outcomes = []
    async with logger_lock(logger.serial_number, wait=settings.REMOTE_LOCK_WAIT_SECONDS):
        async with connect(await endpoint_of(logger)) as conn:
            for change in changes:
                outcomes.append(await _write_one(conn, change))
    return outcomes


async def _write_one(conn, change):
    """1. read the setting's value now (the audit's old value); 2. write; 3. read it back.
    Returns (outcome, Message, old value)."""
    register = BY_KEY[change.key]
    block = [Block(register.table, register.address, register.count, (register,))]
    timeout = settings.DEVICE_TIMEOUT_SECONDS * 3
    old = None
    try:
        if register.group != Group.COMMAND:  # a command (restart) has no value to read
            old = (await asyncio.wait_for(read_values(conn, block), timeout))[register.key]
        await asyncio.wait_for(write_setting(conn, change.key, change.new_value), timeout)
    except DeviceError as e:
        if e.reason == Reason.EXCEPTION:
            return (
                SettingChange.Outcome.REFUSED,
                Message(REFUSED, {"code": e.code, "instruction": {"code": GUIDE}}),
                old,
            )
        return SettingChange.Outcome.NOT_CONFIRMED, not_reached(e), old
    except (NoInverterAnswer, TimeoutError) as e:
        return SettingChange.Outcome.NOT_CONFIRMED, not_reached(e), old
    if register.group == Group.COMMAND:
        return SettingChange.Outcome.CONFIRMED, Message(ACCEPTED), old
    try:
        back = (await read_values(conn, block))[register.key]
    except (DeviceError, NoInverterAnswer, TimeoutError) as e:
        return SettingChange.Outcome.NOT_CONFIRMED, not_reached(e), old
    if back != change.new_value:
        return (
            SettingChange.Outcome.NOT_CONFIRMED,
            Message(READ_BACK, {"value": {"setting": change.key, "value": back}}),
            old,
        )
    return SettingChange.Outcome.CONFIRMED, Message(CONFIRMED), old


def not_reached(error):
    why = error.message if isinstance(error, DeviceError) else Message(NO_ANSWER)
    return Message(NOT_REACHED, {"why": why.as_json()})


# Asynchronous reads for the API: the result waits in Redis under a random token for a while.
READ_KEY = "aura:settings-read:{}"
READ_TTL_SECONDS = 900


def settings_read_request(*, inverter, by):
    """Start a live read in the background; returns the token of its status."""
    token = secrets.token_hex(16)
    _store(token, {"status": "pending", "inverter": inverter.pk, "by": by.pk})
    return token


def settings_read_run(*, token):
    """The background half: read now, and leave the values (or why not) under the token."""
    state = settings_read_status(token=token)
    if state is None or state["status"] != "pending":
        return  # expired, or already done by an earlier run of the task
    inverter = Inverter.objects.select_related("datalogger__plant").get(pk=state["inverter"])
    try:
        state.update(
            status="done", values=settings_read(inverter=inverter), read_at=timezone.now().isoformat()
        )
    except UNREACHABLE as e:
        state.update(status="failed", error=str(e) or _("The logger did not answer."))
    _store(token, state)


def settings_read_status(*, token):
    value = redis_client().get(READ_KEY.format(token))
    return json.loads(value) if value else None


def _store(token, state):
    redis_client().set(READ_KEY.format(token), json.dumps(state), ex=READ_TTL_SECONDS)
