"""Tariff-driven grid charging: each evening, tomorrow's grid-charge window of a plant that opted in,
from its tariff, the Tempo calendar and the last days' energy, written to its inverters through
remote control (devices.remote: audited, read back, under the logger's lock).

The AURA (KSTAR) has one public grid-charge window: 3314 enable, 3317 / 3318 start and end (hex
HH:MM), 3260 the SOC it charges to (the public definition; devices.registermap). The portal owns that
window only while the plan is enabled: a window found different from the one it last confirmed was
changed by someone else, and is reported, never overwritten. The four registers are written one by
one (no public multi-register write for them): an active window is switched off before its hours
change and on again only once they are all confirmed, so a link lost half-way leaves either the
last confirmed window untouched or charging off, never a half-written window in force.

UNVERIFIED: that the inverter applies a window written remotely from that night, without the
3-minute power-off and restart the installer guide asks after setting it on its screen
(docs/hardware-assumptions.md); the tariffs page tells the installer to check the first night."""

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from devices.messages import Message, define
from devices.models import Inverter, SettingChange
from devices.remote import (
    UNREACHABLE,
    not_reached,
    setting_changes_apply,
    setting_changes_request,
    settings_read,
)
from energy.models import DailyEnergy
from plants.models import Plant

from .models import (
    MINUTES_PER_DAY,
    TEMPO_DAY_STARTS,
    TEMPO_PEAK_ENDS,
    ChargeSchedule,
    Tariff,
    TempoColour,
    TempoDay,
    off_peak_minutes,
)

WINDOW_KEYS = ("grid_charge_enable", "grid_charge_start", "grid_charge_end", "grid_charge_max_soc")
LOOKBACK_DAYS = 3  # the days whose export says what the sun will fill tomorrow
LOWEST_SOC = 20  # the register map's lowest grid-charge SOC (3260)
SOC_STEP = 5

NO_OWNER = define(
    "charging.no_owner",
    gettext_lazy("The installer who switched this on no longer has an account: switch it on again."),
)
RATE_LIMITED = define(
    "charging.rate_limited",
    gettext_lazy(
        "Too many changes on this inverter lately: nothing more was sent; the next run tries again."
    ),
)


@dataclass
class ChargePlan:
    night_of: date  # the evening the window opens
    window: dict  # the four settings, by register key
    reason: str
    saving_per_day: Decimal | None = None  # an estimate, in euros

    @property
    def charges(self) -> bool:
        return bool(self.window["grid_charge_enable"])


def _hhmm(minutes: int) -> str:
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def night_window(tariff: Tariff) -> tuple[int, int] | None:
    """The off-peak range of the night as (start, end) minutes, end past midnight when it wraps:
    Tempo's 22:00-06:00, or the contract's ranges joined across midnight (the longest if several)."""
    if tariff.kind == Tariff.Kind.TEMPO:
        return TEMPO_PEAK_ENDS, TEMPO_DAY_STARTS
    if tariff.kind != Tariff.Kind.PEAK_OFF_PEAK:
        return None
    ranges = off_peak_minutes(tariff.off_peak_hours)
    evening = next((r for r in ranges if r[1] == MINUTES_PER_DAY), None)
    morning = next((r for r in ranges if r[0] == 0), None)
    if evening and morning:
        return evening[0], morning[1]
    return max(ranges, key=lambda r: r[1] - r[0], default=None)


def charge_plan(*, plant: Plant, night_of: date) -> ChargePlan:
    """Tomorrow's window for the night that starts on the evening of `night_of`, and why."""
    off = {"grid_charge_enable": 0}
    tariff = plant.tariffs.in_force(night_of + timedelta(days=1))
    window = night_window(tariff) if tariff else None
    if window is None:
        return ChargePlan(
            night_of, off, _("No cheaper hours in the contract: the grid does not charge the battery.")
        )
    capacity = float(plant.battery_usable_kwh or 0)
    if not capacity:
        return ChargePlan(night_of, off, _("The battery's capacity is not known: no plan."))
    hours = {"grid_charge_start": _hhmm(window[0]), "grid_charge_end": _hhmm(window[1])}
    tomorrow = night_of + timedelta(days=1)
    colour = TempoDay.objects.filter(day=tomorrow).values_list("colour", flat=True).first()
    if tariff.kind == Tariff.Kind.TEMPO and colour == TempoColour.RED:
        return _charging(
            tariff,
            night_of,
            hours,
            100,
            capacity,
            colour,
            _("Tempo red day tomorrow: the battery charges fully tonight."),
        )
    rows = DailyEnergy.objects.filter(plant=plant, day__lt=night_of + timedelta(days=1)).order_by("-day")
    exports = [row.grid_export_wh / 1000 for row in rows[:LOOKBACK_DAYS]]
    exported = sum(exports) / len(exports) if exports else 0.0
    if exported >= capacity:
        reason = _(
            "The last days sent %(kwh)s kWh a day to the grid, more than the battery holds: "
            "the sun will fill it."
        ) % {"kwh": round(exported, 1)}
        return ChargePlan(night_of, off, reason)
    soc = min(100, max(LOWEST_SOC, math.ceil((capacity - exported) / capacity * 100 / SOC_STEP) * SOC_STEP))
    reason = _(
        "The sun of the last days left about %(kwh)s kWh of the battery unfilled: "
        "it charges up to %(soc)s %% in the off-peak hours."
    ) % {"kwh": round(capacity - exported, 1), "soc": soc}
    return _charging(tariff, night_of, hours, soc, capacity, colour, reason)


def _charging(tariff, night_of, hours, soc, capacity, colour, reason) -> ChargePlan:
    window = {"grid_charge_enable": 1, **hours, "grid_charge_max_soc": soc}
    return ChargePlan(night_of, window, reason, _saving(tariff, soc, capacity, colour, night_of))


def _saving(tariff: Tariff, soc: int, capacity: float, colour: str | None, night_of: date) -> Decimal | None:
    """What the charge saves if the house would otherwise buy that energy at the peak price of
    tomorrow: the energy charged (from empty, at most) times the difference of the prices."""
    if tariff.kind == Tariff.Kind.PEAK_OFF_PEAK:
        peak, night = tariff.peak_price, tariff.off_peak_price
    else:
        tonight = TempoDay.objects.filter(day=night_of).values_list("colour", flat=True).first()
        if colour is None or tonight is None:
            return None
        peak, night = getattr(tariff, f"{colour}_peak_price"), getattr(tariff, f"{tonight}_off_peak_price")
    if peak is None or night is None:
        return None
    kwh = Decimal(str(capacity)) * soc / 100
    return (kwh * (peak - night)).quantize(Decimal("0.01"))


def _differs(read: dict, window: dict) -> bool:
    """Whether the inverter's window is not the one confirmed (only the enable counts when the
    portal left charging off)."""
    keys = WINDOW_KEYS if window.get("grid_charge_enable") else ("grid_charge_enable",)
    return any(read.get(key) != window.get(key) for key in keys)


def _steps(read: dict, wanted: dict) -> list[dict]:
    """The writes from `read` to `wanted`, in an order where every prefix is safe: charging off
    before an active window's hours change, on again only once they are all confirmed."""
    if not wanted["grid_charge_enable"]:
        return [] if not read.get("grid_charge_enable") else [{"grid_charge_enable": 0}]
    hours = {key: wanted[key] for key in WINDOW_KEYS[1:] if read.get(key) != wanted[key]}
    steps = [{"grid_charge_enable": 0}] if hours and read.get("grid_charge_enable") else []
    if hours:
        steps.append(hours)
    if steps or not read.get("grid_charge_enable"):
        steps.append({"grid_charge_enable": 1})
    return steps


def charge_schedule_run(*, schedule: ChargeSchedule, night_of: date) -> ChargeSchedule:
    """Plan the night of `night_of` and write it to each inverter of the plant (see the module's
    rules); the schedule records how it went. Safe to run again: a window already set is not
    written, a window changed by someone else is reported, not overwritten."""
    plan = charge_plan(plant=schedule.plant, night_of=night_of)
    status, answer, found, window = ChargeSchedule.Status.UNCHANGED, None, None, schedule.window
    if schedule.enabled_by_id is None:  # every write is someone's: theirs was deleted
        return _record(schedule, ChargeSchedule.Status.NOT_CONFIRMED, Message(NO_OWNER), None, window, None)
    inverters = (
        Inverter.objects.counted()
        .filter(datalogger__plant=schedule.plant, datalogger__archived_at__isnull=True)
        .select_related("datalogger")
    )
    for inverter in inverters:
        try:
            values = settings_read(inverter=inverter)
        except UNREACHABLE as e:
            status, answer = ChargeSchedule.Status.NOT_CONFIRMED, not_reached(e)
            break
        read = {key: values.get(key) for key in WINDOW_KEYS}
        if schedule.window is not None and _differs(read, schedule.window):
            status, found = ChargeSchedule.Status.HAND_CHANGED, read
            break
        failed, known = _write(inverter, schedule.enabled_by, _steps(read, plan.window), read)
        if failed:
            # What the inverter holds is not known for sure (a write may have landed without its
            # read-back): the next run takes the window as it finds it and writes the plan again.
            (status, answer), window = failed, None
            break
        if known != read:
            status = ChargeSchedule.Status.WRITTEN
        window = plan.window
    # Not confirmed (an inverter asleep or out of reach): the next hour of the evening tries again.
    retry = status == ChargeSchedule.Status.NOT_CONFIRMED
    return _record(schedule, status, answer, found, window, None if retry else night_of)


def _record(schedule, status, answer, found, window, night_of):
    ChargeSchedule.objects.filter(pk=schedule.pk).update(
        status=status, answer=answer, found=found, window=window, night_of=night_of, run_at=timezone.now()
    )
    schedule.refresh_from_db()
    return schedule


def _write(inverter: Inverter, by, steps: list[dict], read: dict):
    """Each step through remote control, in order, stopping at the first not confirmed; returns
    ((status, answer) of the failure or None, the values confirmed on the inverter)."""
    known = dict(read)
    for step in steps:
        try:
            changes = setting_changes_request(inverter=inverter, by=by, new=step)
        except ValidationError:
            return (ChargeSchedule.Status.REFUSED, Message(RATE_LIMITED)), known
        for outcome, answer, _old in setting_changes_apply(change_ids=[change.pk for change in changes]):
            if outcome != SettingChange.Outcome.CONFIRMED:
                refused = outcome == SettingChange.Outcome.REFUSED
                status = ChargeSchedule.Status.REFUSED if refused else ChargeSchedule.Status.NOT_CONFIRMED
                return (status, answer), known
        known.update(step)
    return None, known


PLAN_HOUR = 20  # local time: after the day's sun, before the night's off-peak hours


def charge_schedules_run_due(*, now=None) -> int:
    """Run tonight's plan of each enabled schedule whose plant's evening has come and that has not
    planned tonight yet; returns how many ran. Safe to run every hour (and twice)."""
    now = now or timezone.now()
    ran = 0
    for schedule in ChargeSchedule.objects.filter(enabled=True).select_related("plant", "enabled_by"):
        local = timezone.localtime(now, schedule.plant.tzinfo)
        if local.hour < PLAN_HOUR or schedule.night_of == local.date():
            continue
        # Claimed for tonight first: two workers running this at once write the window once.
        claimed = (
            ChargeSchedule.objects.filter(pk=schedule.pk, enabled=True)
            .exclude(night_of=local.date())
            .update(night_of=local.date())
        )
        if claimed:
            charge_schedule_run(schedule=schedule, night_of=local.date())
            ran += 1
    return ran


def charge_schedule_enable(*, plant: Plant, by, enabled: bool) -> ChargeSchedule:
    """Opt the plant in or out. Enabled, the portal takes the window as it finds it at the next run
    (nothing is compared with an earlier ownership); disabled, it leaves the inverters' window as it
    is and no longer touches it."""
    schedule, _created = ChargeSchedule.objects.get_or_create(plant=plant)
    fields = {"enabled": enabled}
    if enabled:
        fields.update(
            enabled_by=by, enabled_at=timezone.now(), window=None, found=None, night_of=None,
            status=ChargeSchedule.Status.WAITING, answer=None,
        )  # fmt: skip
    ChargeSchedule.objects.filter(pk=schedule.pk).update(**fields)
    schedule.refresh_from_db()
    return schedule
