"""The checklist's automatic items, evaluated from what the portal already read and stored (the
last poll's values, the identity, the grid-sign evidence, the alarms, the history): no device is
read here, so that a page can show them at any time. Each result says what was read and when.

What is missing before a plant may be called commissioned is `missing_items`: the one rule the
checklist page, the finish action, the fleet home and the API share.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from alarms.catalogue import FAULT, kind_of
from alarms.models import Alarm
from devices.models import GRID_SIGN_MIN_EVIDENCE, Datalogger, DeviceStatus, Inverter, Reading
from devices.registermap import BY_KEY
from plants.models import GRID_CODE_EN_50549, Plant

from .checklist import RECOMMENDED_SETTINGS, SECTION_LABELS, Item, Kind, checklist_for
from .models import Site, Tick

# The battery's own alarms: battery lost or off, and the BMS's (guide 5-b, W05, W13 to W27).
BATTERY_CODES = ["W05", "W13", *(f"W{n}" for n in range(14, 28))]
CT_REVERSED = "W28"


class State(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    PENDING = "pending"  # not enough data yet to say (no grid exchange yet, the first day not over)


STATE_LABELS = {
    State.PASSED: gettext_lazy("Passed"),
    State.FAILED: gettext_lazy("Failed"),
    State.PENDING: gettext_lazy("Waiting"),
}


def _day(iso: str | None) -> str:
    """A stored ISO day (the grid-sign evidence's) as the reader's language writes a date."""
    return date_format(date.fromisoformat(iso), "SHORT_DATE_FORMAT") if iso else "—"


@dataclass
class Result:
    key: str
    state: State
    said: str  # what was read, in words
    at: datetime | None = None  # when it was read

    @property
    def passed(self) -> bool:
        return self.state == State.PASSED

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


@dataclass
class Facts:
    """What the checks read, loaded once per plant."""

    plant: Plant
    loggers: list[Datalogger]
    inverters: list[Inverter]
    open_codes: dict[int | None, list[str]] = field(default_factory=dict)  # inverter id → codes
    now: datetime = field(default_factory=timezone.now)

    @classmethod
    def of(cls, plants: list[Plant], *, now: datetime | None = None) -> dict[int, "Facts"]:
        """Each plant's facts, read for all of them in three queries (the fleet home shows several)."""
        facts = {p.pk: cls(p, [], [], {}, now or timezone.now()) for p in plants}
        for logger in Datalogger.objects.active().filter(plant__in=plants).order_by("serial_number"):
            facts[logger.plant_id].loggers.append(logger)
        inverters = (
            Inverter.objects.counted()
            .filter(datalogger__plant__in=plants, datalogger__archived_at__isnull=True)
            .select_related("live", "datalogger")
            .order_by("serial_number")
        )
        for inverter in inverters:
            facts[inverter.datalogger.plant_id].inverters.append(inverter)
        alarms = Alarm.objects.active().filter(plant__in=plants).order_by("code")
        for plant_id, inverter_id, code in alarms.values_list("plant_id", "inverter_id", "code_id"):
            facts[plant_id].open_codes.setdefault(inverter_id, []).append(code)
        return facts

    def codes(self) -> list[str]:
        return sorted({code for codes in self.open_codes.values() for code in codes})


def _all(results: list[Result], key: str, nothing: str) -> Result:
    """One result from each device's: failed if any failed, pending if any pending."""
    if not results:
        return Result(key, State.FAILED, nothing)
    for state in (State.FAILED, State.PENDING):
        if any(r.state == state for r in results):
            break
    else:
        state = State.PASSED
    dates = [r.at for r in results if r.at]
    return Result(key, state, " · ".join(r.said for r in results), max(dates) if dates else None)


def check_logger(facts: Facts) -> Result:
    results = []
    for logger in facts.loggers:
        online = logger.status in (DeviceStatus.ONLINE, DeviceStatus.ASLEEP)
        said = _("%(sn)s: %(status)s") % {"sn": logger.serial_number, "status": logger.get_status_display()}
        results.append(Result("", State.PASSED if online else State.FAILED, said, logger.last_seen_at))
    return _all(results, "auto_logger", _("No datalogger attached."))


def check_identity(facts: Facts) -> Result:
    results = []
    for inverter in facts.inverters:
        said = _("%(sn)s: %(model)s, battery “%(battery)s”, firmware %(firmware)s") % {
            "sn": inverter.serial_number,
            "model": inverter.model_name or "—",
            "battery": inverter.battery_name or "—",
            "firmware": inverter.firmware or "—",
        }
        mismatch = facts.plant.battery_mismatch(inverter)
        if inverter.info_read_at is None:
            state = State.PENDING
        else:
            state = State.FAILED if mismatch else State.PASSED
        results.append(Result("", state, f"{said}. {mismatch}" if mismatch else said, inverter.info_read_at))
    return _all(results, "auto_identity", _("No inverter read yet."))


def check_grid_standard(facts: Facts, reason: str) -> Result:
    results = []
    for inverter in facts.inverters:
        code = inverter.latest.get("grid_standard")
        said = _("%(sn)s: register 3193 reads %(value)s") % {
            "sn": inverter.serial_number,
            "value": BY_KEY["grid_standard"].display(code),
        }
        if code is None:
            state = State.PENDING
        elif code == GRID_CODE_EN_50549 or (reason and code == facts.plant.grid_code):
            state = State.PASSED
        else:
            state = State.FAILED
        results.append(Result("", state, said, inverter.latest_at))
    result = _all(results, "auto_grid_standard", _("No inverter read yet."))
    if reason and result.passed:
        result.said += " · " + _("Reason recorded: %(reason)s") % {"reason": reason}
    return result


def check_ct_direction(facts: Facts, proven_at: datetime | None) -> Result:
    results = []
    for inverter in facts.inverters:
        check = inverter.grid_sign_check
        said = _(
            "%(sn)s: on %(day)s, %(agree)s poll(s) where the grid power's sign agreed with the day "
            "counter that grew, %(disagree)s where it did not"
        ) % {
            "sn": inverter.serial_number,
            "day": _day(check.get("day")),
            "agree": check.get("agree", 0),
            "disagree": check.get("disagree", 0),
        }
        if CT_REVERSED in facts.open_codes.get(inverter.pk, []):
            state, said = State.FAILED, said + " · " + _("the inverter raises W28 (CT reversed)")
        elif check.get("flagged_on"):
            state = State.FAILED
            said += " · " + _("sign flagged on %(day)s: the clamp is probably reversed") % {
                "day": _day(check["flagged_on"])
            }
        elif check.get("agree", 0) >= GRID_SIGN_MIN_EVIDENCE and not check.get("disagree"):
            state = State.PASSED
        elif proven_at is not None:
            state = State.PASSED
            said += " · " + _("proven earlier")
        else:
            state = State.PENDING
            said += " · " + _("waiting for a period with grid import or export")
        results.append(Result("", state, said, inverter.latest_at))
    return _all(results, "auto_ct_direction", _("No inverter read yet."))


def check_battery(facts: Facts) -> Result:
    results = []
    for inverter in facts.inverters:
        soc, volts = inverter.latest.get("battery_soc"), inverter.latest.get("battery_voltage")
        said = _("%(sn)s: state of charge %(soc)s, voltage %(volts)s") % {
            "sn": inverter.serial_number,
            "soc": BY_KEY["battery_soc"].display(soc),
            "volts": BY_KEY["battery_voltage"].display(volts),
        }
        alarms = [c for c in facts.open_codes.get(inverter.pk, []) if c in BATTERY_CODES]
        if alarms:
            state, said = (
                State.FAILED,
                said + " · " + _("battery alarms: %(codes)s") % {"codes": ", ".join(alarms)},
            )
        elif not inverter.latest:
            state = State.PENDING
        else:
            state = State.PASSED if soc is not None and volts is not None else State.FAILED
        results.append(Result("", state, said, inverter.latest_at))
    return _all(results, "auto_battery", _("No inverter read yet."))


def settings_differences(values: dict[str, Any]) -> dict[str, Any]:
    """The recommended settings that `values` (an inverter's) differ from: {key: recommended}."""
    return {k: v for k, v in RECOMMENDED_SETTINGS.items() if values.get(k) != v}


def check_settings(facts: Facts) -> Result:
    results = []
    for inverter in facts.inverters:
        if not inverter.latest:
            results.append(Result("", State.PENDING, inverter.serial_number, None))
            continue
        differ = settings_differences(inverter.latest)
        words = [
            _("%(setting)s: %(value)s (recommended: %(recommended)s)")
            % {
                "setting": BY_KEY[key].label,
                "value": BY_KEY[key].display(inverter.latest.get(key)),
                "recommended": BY_KEY[key].display(value),
            }
            for key, value in differ.items()
        ]
        said = _("%(sn)s: %(said)s") % {
            "sn": inverter.serial_number,
            "said": "; ".join(words) if words else _("as recommended"),
        }
        results.append(Result("", State.FAILED if differ else State.PASSED, said, inverter.latest_at))
    return _all(results, "auto_settings", _("No inverter read yet."))


def check_no_fault(facts: Facts) -> Result:
    faults = [code for code in facts.codes() if kind_of(code) == FAULT]
    if faults:
        return Result(
            "auto_no_fault", State.FAILED, _("Active: %(codes)s") % {"codes": ", ".join(faults)}, facts.now
        )
    return Result("auto_no_fault", State.PASSED, _("No active fault."), facts.now)


def check_first_day(facts: Facts) -> Result:
    """Data on a whole local day: the day after the first inverter was first read, once it ended."""
    if not facts.inverters:
        return Result("auto_first_day", State.PENDING, _("No inverter read yet."))
    tz = facts.plant.tzinfo
    first = min(inv.first_seen_at for inv in facts.inverters)
    day = timezone.localdate(first, tz) + timedelta(days=1)
    start = datetime.combine(day, time(), tz)
    end = start + timedelta(days=1)
    args: dict[str, Any] = {"day": date_format(day, "SHORT_DATE_FORMAT")}
    if facts.now < end:
        return Result("auto_first_day", State.PENDING, _("First full day: %(day)s, not over yet.") % args)
    inverters = [inv.pk for inv in facts.inverters]
    rows = Reading.objects.filter(inverter_id__in=inverters).during(start, end).count()
    args["n"] = rows
    said = ngettext("%(day)s: %(n)s reading stored.", "%(day)s: %(n)s readings stored.", rows) % args
    return Result("auto_first_day", State.PASSED if rows else State.FAILED, said, end)


def automatic_results(
    facts: Facts, *, grid_standard_reason: str = "", ct_proven_at: datetime | None = None
) -> list[Result]:
    return [
        check_logger(facts),
        check_identity(facts),
        check_grid_standard(facts, grid_standard_reason),
        check_ct_direction(facts, ct_proven_at),
        check_battery(facts),
        check_settings(facts),
        check_no_fault(facts),
        check_first_day(facts),
    ]


@dataclass
class Checklist:
    """A plant's checklist now: its items, the ticks, the automatic results, and what is missing."""

    plant: Plant
    items: list[Item]
    ticks: dict[str, Any]
    results: dict[str, Result]

    def missing(self) -> list[str]:
        """The words for each condition not met yet (empty: the plant may be called commissioned)."""
        missing = []
        for item in self.items:
            if item.kind == Kind.AUTOMATIC:
                if not self.results[item.key].passed:
                    missing.append(str(item.label))
            elif item.kind == Kind.INPUT:
                missing.append(str(item.label))
            elif item.key not in self.ticks:
                missing.append(str(item.label))
        if self.plant.n_grants == 0:
            missing.append(_("An authorised customer"))
        return missing

    def only_waiting(self) -> bool:
        """Whether all that is missing is data still to come: automatic items waiting, nothing to
        tick, enter or correct, a customer authorised."""
        waiting = {key for key, result in self.results.items() if result.state == State.PENDING}
        for item in self.items:
            if item.kind == Kind.AUTOMATIC:
                if not self.results[item.key].passed and item.key not in waiting:
                    return False
            elif item.kind == Kind.INPUT or item.key not in self.ticks:
                return False
        return self.plant.n_grants > 0 and bool(waiting)

    def sections(self) -> list[tuple[str, list[tuple[Item, Any, Result | None]]]]:
        """The items by section, in order, each with its tick and its result: what pages show."""
        grouped: dict[str, list[tuple[Item, Any, Result | None]]] = {}
        for item in self.items:
            row = (item, self.ticks.get(item.key), self.results.get(item.key))
            grouped.setdefault(str(SECTION_LABELS[item.section]), []).append(row)
        return list(grouped.items())

    @property
    def progress(self) -> tuple[int, int]:
        done = sum(
            1
            for item in self.items
            if (item.key in self.ticks) or (item.kind == Kind.AUTOMATIC and self.results[item.key].passed)
        )
        return done, len(self.items)


def checklist_of(plant: Plant, *, now: datetime | None = None) -> Checklist:
    return checklists_of([plant], now=now)[plant.pk]


def checklists_of(plants: list[Plant], *, now: datetime | None = None) -> dict[int, Checklist]:
    """Each plant's checklist, in a few queries whatever their number (the fleet home's list)."""
    sites = {s.plant_id: s for s in Site.objects.filter(plant__in=plants)}
    facts = Facts.of(plants, now=now)
    ticks: dict[int, dict[str, Tick]] = {p.pk: {} for p in plants}
    for tick in Tick.objects.filter(plant__in=plants).select_related("by", "photo"):
        ticks[tick.plant_id][tick.item] = tick
    checklists = {}
    for plant in plants:
        site = sites.get(plant.pk) or Site(plant=plant)
        items = checklist_for(
            system_type=plant.system_type,
            battery_model=plant.battery_model,
            breaker_distance_m=site.breaker_distance_m,
            loggers=facts[plant.pk].loggers,
        )
        results = automatic_results(
            facts[plant.pk], grid_standard_reason=site.grid_standard_reason, ct_proven_at=site.ct_proven_at
        )
        checklists[plant.pk] = Checklist(plant, items, ticks[plant.pk], {r.key: r for r in results})
    return checklists
