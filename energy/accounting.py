"""Energy accounting, written once: per plant and per local day, from the inverters' own counters.

Each inverter counts its energy of the day in registers (`DAY_COUNTERS` of the register map, the
public definition's "Today …" counters, stored with every history row). That they reset at the
inverter's own midnight is UNVERIFIED (the public definition only marks them "total_increasing"), so
the rule below does not depend on when they reset. A day's energy for one inverter is the sum of
the rises of each counter over that day's readings; a fall is a reset (the inverter's midnight, a
restart), after which the counter counts again from zero. So a gap in the readings loses nothing (the
rise across it is counted when readings come back), a reset never counts negative energy, and a
replaced inverter adds its own part of the day. Power samples are never integrated.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from itertools import takewhile
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from devices.models import Inverter, Reading, ReadingFlag
from devices.polling import history_slot
from devices.registermap import DAY_COUNTERS
from plants.models import Plant, SystemType

from .models import FLOWS, SUMMED_FIELDS, WH_FIELDS, DailyEnergy, MonthlyEnergy

# A reading this long before midnight tells whether the first reading of the day still carries
# yesterday's count (an inverter clock a few minutes late) or was already reset.
LOOKBACK = timedelta(hours=1)
RETROFIT_TYPES = {SystemType.DC_AC, SystemType.DC_AC_BACKUP, SystemType.AC, SystemType.AC_BACKUP}
COUNTER_COLUMNS = [DAY_COUNTERS[flow] for flow in FLOWS]
FLOW_OF = {DAY_COUNTERS[flow]: f"{flow}_wh" for flow in FLOWS}

SlotValue = tuple[datetime, Decimal]  # a day counter's reading: (slot, kWh)


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC start and end of local `day` in `tz` (23 or 25 hours apart on daylight-saving days)."""
    start = datetime.combine(day, time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def slot_seconds() -> int:
    return settings.HISTORY_RESOLUTION_MINUTES * 60


def slots_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // slot_seconds()))


def slots_expected(plant: Plant, start: datetime, end: datetime, now: datetime) -> int:
    """The history slots of the day [start, end) that should have a reading by `now`: those begun,
    and none before the plant existed (a plant created at noon is not half missing)."""
    first = history_slot(max(start, plant.created_at))
    if now >= end:
        return slots_between(first, end)
    if now < first:
        return 0
    return min(slots_between(first, now) + 1, slots_between(first, end))  # the slot under way counts


# Counters that cannot lie. A single read may be wrong: all zeros (the stick's glitch), or a spike
# inside the sanity limits (3036 = 700.0 kWh); the public definition filters these same counters
# (ha-solarman kstar_hybrid.yaml: `validation: min 0.1`, `dev 100`), so they happen on this family.
# 1. A fall that comes back (a reading within GLITCH_WINDOW after it is at least the level before the
#    fall) is a glitch, not a reset: ignored.
# 2. A rise faster than the plant can count is a spike: ignored. The bound is the larger of a French
#    residential connection's largest subscription (36 kVA: no flow of a home, grid import included,
#    goes beyond it) and twice the inverter's rated power (PV oversized up to 1.5 DC/AC plus a battery
#    charging), per hour elapsed, plus one counter step.
# 3. After midnight, readings whose counters are not below the last reading of the day before (however
#    early in it) are still yesterday's until the counters fall: an inverter clock minutes late resets
#    after local midnight. Only within CLOCK_DRIFT of midnight, so that a counter that never resets is
#    still counted. A reading older than the day before is no baseline: a day counter has reset since.
# Ignored readings stay in the history as they were read.
GLITCH_WINDOW = timedelta(hours=1)
CLOCK_DRIFT = timedelta(hours=1)
RESUME_AFTER = timedelta(microseconds=1)  # a tally that holds every reading resumes just after the newest
RESIDENTIAL_MAX_KW = 36
COUNTER_STEP_KWH = Decimal("0.2")


def max_kw(rated_power_w: int | None) -> float:
    return max(RESIDENTIAL_MAX_KW, 2 * (rated_power_w or 0) / 1000)


# What a day counted is also split by half-hour of the day (`DailyEnergy.half_hours`): the prices of
# a tariff change on the half-hour (French off-peak hours such as 22:30-06:30), and the split is kept
# apart from any tariff so that a tariff entered later values past days too. A rise between two
# readings is spread over the time between them, in proportion; the first reading of a day with
# nothing before it puts its whole count in its own half-hour.
HALF_HOUR = timedelta(minutes=30)


@dataclass
class CounterState:
    """Where one inverter's day counter stands after some of the day's readings: what it counted (in
    all and by half-hour of the day since `day_start`), its last accepted reading, and whether that
    reading still carries yesterday's count (rule 3). Stored with the day's row, so that the next
    refresh resumes here instead of from midnight."""

    total: Decimal = Decimal(0)
    last_at: datetime | None = None
    last: Decimal | None = None
    yesterdays: bool = False
    half_hours: dict[int, Decimal] = field(default_factory=dict)

    def copy(self) -> "CounterState":
        return CounterState(self.total, self.last_at, self.last, self.yesterdays, dict(self.half_hours))

    def count(
        self, amount: Decimal, *, since: datetime | None, until: datetime, day_start: datetime | None
    ) -> None:
        """Add `amount`, counted between the readings at `since` and `until`, to the total and to the
        half-hours it was counted in (none without a `day_start`)."""
        self.total += amount
        if day_start is None or not amount:
            return
        first = max(since or until, day_start)
        if until <= first:
            index = max(0, int((until - day_start) / HALF_HOUR))
            self.half_hours[index] = self.half_hours.get(index, Decimal(0)) + amount
            return
        span, left, at = Decimal((until - first).total_seconds()), amount, first
        while at < until:
            index = int((at - day_start) / HALF_HOUR)
            end = min(until, day_start + (index + 1) * HALF_HOUR)
            part = left if end == until else amount * Decimal((end - at).total_seconds()) / span
            self.half_hours[index] = self.half_hours.get(index, Decimal(0)) + part
            left -= part
            at = end

    @classmethod
    def before_day(cls, before: SlotValue | None) -> "CounterState":
        """The state at the day's start, from the last reading before it (if any)."""
        return cls() if before is None else cls(last_at=before[0], last=before[1], yesterdays=True)

    def to_json(self) -> list[Any]:
        at = None if self.last_at is None else self.last_at.isoformat()
        half_hours = {str(index): str(value) for index, value in self.half_hours.items()}
        return [
            str(self.total),
            at,
            None if self.last is None else str(self.last),
            self.yesterdays,
            half_hours,
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> "CounterState":
        total, at, last, yesterdays, half_hours = data
        return cls(
            Decimal(total),
            None if at is None else datetime.fromisoformat(at),
            None if last is None else Decimal(last),
            yesterdays,
            {int(index): Decimal(value) for index, value in half_hours.items()},
        )


def counted(
    readings: Iterable[tuple[datetime, Decimal | None]],
    *,
    before: SlotValue | None = None,
    day_start: datetime | None = None,
    limit_kw: float = RESIDENTIAL_MAX_KW,
    ignored: list[tuple[datetime, str]] | None = None,
) -> Decimal:
    """Energy one day counter counted over one inverter's readings of a day, in the counter's unit.

    `readings` are (slot, value) in time order (None: discarded by the sanity limits); `before` is
    the last (slot, value) before the day, if any. See the rules above. The readings it ignored are
    appended to `ignored` as (slot, ReadingFlag.Reason)."""
    final, _settled, _undecided = fold(
        readings, CounterState.before_day(before), day_start=day_start, limit_kw=limit_kw, ignored=ignored
    )
    return final.total


def fold(
    readings: Iterable[tuple[datetime, Decimal | None]],
    state: CounterState,
    *,
    day_start: datetime | None = None,
    limit_kw: float = RESIDENTIAL_MAX_KW,
    ignored: list[tuple[datetime, str]] | None = None,
    settle_before: datetime | None = None,
    latest: datetime | None = None,
) -> tuple[CounterState, CounterState, datetime | None]:
    """`state` carried over `readings` by the rules above: (the state after them all; the state
    before the first of them at or after `settle_before`, from which a later refresh resumes; the
    first reading a later one may still change: a fall within GLITCH_WINDOW of `latest`, the newest
    reading known, counted as a reset now and a glitch if the counter comes back)."""
    ignored = [] if ignored is None else ignored
    known: list[SlotValue] = [(slot, value) for slot, value in readings if value is not None]
    state = state.copy()
    settled = undecided = None
    for i, (slot, value) in enumerate(known):
        if settled is None and settle_before is not None and slot >= settle_before:
            settled = state.copy()
        if undecided is None and latest is not None and slot > latest - GLITCH_WINDOW:
            undecided = slot if state.last is not None and value < state.last else None
        if reason := _count(state, slot, value, known[i + 1 :], day_start=day_start, limit_kw=limit_kw):
            ignored.append((slot, reason))
    return state, settled or state.copy(), undecided


def _count(
    state: CounterState,
    slot: datetime,
    value: Decimal,
    later: Sequence[SlotValue],
    *,
    day_start: datetime | None,
    limit_kw: float,
) -> str | None:
    """Count one reading into `state`; returns why it was ignored, if it was."""
    if state.last is None or state.last_at is None:
        state.count(value, since=None, until=slot, day_start=day_start)
        state.last_at, state.last = slot, value
        return None
    if value < state.last:
        if _comes_back(later, since=slot, level=state.last):
            return ReadingFlag.Reason.GLITCH  # 1. a dip that comes back
        state.count(value, since=state.last_at, until=slot, day_start=day_start)  # a reset: from zero
        state.yesterdays = False
    else:
        # kWh per hour, compared in exact decimals (a float hour made a rise at the limit a spike).
        seconds = Decimal(int((slot - state.last_at).total_seconds()))
        if (value - state.last - COUNTER_STEP_KWH) * 3600 > Decimal(str(limit_kw)) * seconds:
            return ReadingFlag.Reason.SPIKE  # 2. a spike
        if not (state.yesterdays and day_start is not None and slot < day_start + CLOCK_DRIFT):
            state.count(value - state.last, since=state.last_at, until=slot, day_start=day_start)
        # 3. else still yesterday's count
    state.last_at, state.last = slot, value
    return None


def _comes_back(later: Sequence[SlotValue], *, since: datetime, level: Decimal) -> bool:
    """Whether a reading within GLITCH_WINDOW of `since` is back at `level` or above."""
    window = takewhile(lambda reading: reading[0] - since <= GLITCH_WINDOW, later)
    return any(value >= level for _slot, value in window)


class _DayTally:
    """One plant's readings of one day, as they stream in (inverter by inverter, slot by slot),
    resumed from the day's stored tally when there is one (only the readings since come in)."""

    def __init__(self, start: datetime, resumed: dict[str, Any] | None = None) -> None:
        self.start = start
        self.slots: set[datetime] = set()
        self.series: defaultdict[int, defaultdict[str, list[tuple[datetime, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )  # inverter → column → (slot, value) of the day
        self.before: defaultdict[int, dict[str, SlotValue]] = defaultdict(
            dict
        )  # inverter → column → last (slot, value) before the day
        self.rated_w: dict[int, int | None] = {}
        if not resumed or not _split_by_half_hour(resumed):
            resumed = {}  # none, or stored before the half-hour split: the day is counted again
        self.resume_from = datetime.fromisoformat(resumed["from"]) if resumed else None
        self.tallied_slots: int = resumed.get("slots", 0)
        self.states = {
            int(inverter_id): {column: CounterState.from_json(state) for column, state in columns.items()}
            for inverter_id, columns in resumed.get("counters", {}).items()
        }
        self.unknown_inverter = False  # a reading since the tally from an inverter it does not hold

    def add(
        self, inverter_id: int, slot: datetime, values: Sequence[Decimal | None], rated_w: int | None = None
    ) -> None:
        if self.resume_from is not None:
            if slot < self.resume_from:
                return  # counted in the tally
            self.unknown_inverter |= inverter_id not in self.states
        self.rated_w[inverter_id] = rated_w
        for column, value in zip(COUNTER_COLUMNS, values, strict=True):
            if slot < self.start:
                if value is not None:
                    self.before[inverter_id][column] = (slot, value)
            else:
                self.series[inverter_id][column].append((slot, value))
        if slot >= self.start:
            self.slots.add(slot)

    def without_before(self) -> list[int]:
        """Inverters of the day with no reading in the hour before it (none when resumed)."""
        if self.resume_from is not None:
            return []
        return [inverter_id for inverter_id in self.series if not self.before[inverter_id]]

    def energy_wh(
        self, flags: list[ReadingFlag], latest: datetime | None
    ) -> tuple[dict[str, int], dict[str, list[int]], Any]:
        """The day's energy by flow, in Wh, in all and by half-hour of the day, and the tally to resume
        from (None without a reading): every counter up to the first reading a later one may still
        change (see `fold`), the same point for all; the readings it ignored are added to `flags`."""
        starts = {
            (inverter_id, column): self.states.get(inverter_id, {}).get(column)
            or CounterState.before_day(self.before[inverter_id].get(column))
            for inverter_id in sorted(self.series.keys() | self.states.keys())
            for column in COUNTER_COLUMNS
        }
        wh = dict.fromkeys(WH_FIELDS, 0)
        by_half_hour: defaultdict[str, defaultdict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        folded = {}
        for (inverter_id, column), state in starts.items():
            ignored: list[tuple[datetime, str]] = []
            folded[inverter_id, column] = final, _settled, _undecided = fold(
                self._series(inverter_id, column),
                state,
                day_start=self.start,
                limit_kw=max_kw(self.rated_w.get(inverter_id)),
                ignored=ignored,
                latest=latest,
            )
            wh[FLOW_OF[column]] += int(final.total * 1000)
            for index, kwh in final.half_hours.items():
                by_half_hour[FLOW_OF[column]][index] += kwh
            flags += [
                ReadingFlag(inverter_id=inverter_id, slot=slot, counter=column, reason=reason)
                for slot, reason in ignored
            ]
        half_hours = _half_hours_wh(by_half_hour)
        if latest is None:
            return wh, half_hours, None
        undecided = [result[2] for result in folded.values() if result[2] is not None]
        resume_from = min(undecided, default=latest + RESUME_AFTER)
        counters: dict[str, dict[str, list[Any]]] = {}
        for (inverter_id, column), (final, _settled, _undecided) in folded.items():
            resumed = final
            if undecided:  # the states before that reading: counted again from there
                _final, resumed, _undecided = fold(
                    self._series(inverter_id, column),
                    starts[inverter_id, column],
                    day_start=self.start,
                    limit_kw=max_kw(self.rated_w.get(inverter_id)),
                    settle_before=resume_from,
                )
            counters.setdefault(str(inverter_id), {})[column] = resumed.to_json()
        slots = self.tallied_slots + sum(1 for slot in self.slots if slot < resume_from)
        return wh, half_hours, {"from": resume_from.isoformat(), "slots": slots, "counters": counters}

    def _series(self, inverter_id: int, column: str) -> list[tuple[datetime, Any]]:
        series = self.series.get(inverter_id)  # not [inverter_id]: that would add it to the day
        return [] if series is None else series[column]

    @property
    def slots_with_data(self) -> int:
        return self.tallied_slots + len(self.slots)


def _split_by_half_hour(tally: dict[str, Any]) -> bool:
    return all(len(state) == 5 for columns in tally["counters"].values() for state in columns.values())


def _half_hours_wh(by_half_hour: Mapping[str, Mapping[int, Decimal]]) -> dict[str, list[int]]:
    """{flow field: Wh of each half-hour of the day, from the first}, rounded so that each flow's
    half-hours add up to its rounded total (the largest remainders get the leftover Wh)."""
    split = {}
    for flow, halves in by_half_hour.items():
        wh = {index: kwh * 1000 for index, kwh in halves.items()}
        rounded = {index: int(value) for index, value in wh.items()}
        leftover = int(sum(wh.values())) - sum(rounded.values())
        for index in sorted(wh, key=lambda i: rounded[i] - wh[i])[:leftover]:
            rounded[index] += 1
        split[flow] = [rounded.get(index, 0) for index in range(max(rounded) + 1)]  # never empty
    return split


def _read_history(tallies: dict[int, _DayTally], start: datetime, end: datetime) -> None:
    """Stream the history into the tallies: for a resumed one, from where its tally stops; for
    the others, the whole day and the hour before it."""
    resumed = {pid: tally.resume_from for pid, tally in tallies.items() if tally.resume_from is not None}
    groups = [
        ([pid for pid in tallies if pid not in resumed], start - LOOKBACK),
        (list(resumed), min(resumed.values(), default=start)),
    ]
    for plant_ids, first in groups:
        if not plant_ids:
            continue
        # A rejected replacement is not the plant's inverter: its readings are not the plant's energy.
        inverters = Inverter.objects.filter(datalogger__plant__in=plant_ids, rejected_at__isnull=True)
        plant_of, rated_w = {}, {}
        for inverter_id, plant_id, rated in inverters.values_list(
            "pk", "datalogger__plant_id", "rated_power_w"
        ):
            plant_of[inverter_id], rated_w[inverter_id] = plant_id, rated
        # By inverter id, each a probe of the history's (inverter, bucket) index, whatever the
        # statistics say of the join.
        readings = (
            Reading.objects.filter(inverter_id__in=list(plant_of))
            .during(first, end)
            .order_by("inverter_id", "bucket", "slot")
            .values_list("inverter_id", "slot", *COUNTER_COLUMNS)
        )
        # A replacement's first reading counts whole: its day counter started when it was powered on
        # here (the replaced inverter's last reading ended its own part of the day).
        for inverter_id, slot, *values in readings.iterator(chunk_size=5000):
            tallies[plant_of[inverter_id]].add(inverter_id, slot, values, rated_w[inverter_id])


def _without_rejected(tallies: dict[int, _DayTally]) -> None:
    """A replacement rejected since its counters were tallied is not the plant's inverter either."""
    held = {inverter_id for tally in tallies.values() for inverter_id in tally.states}
    if not held:
        return
    rejected = set(
        Inverter.objects.filter(pk__in=held, rejected_at__isnull=False).values_list("pk", flat=True)
    )
    for tally in tallies.values():
        for inverter_id in rejected & tally.states.keys():
            del tally.states[inverter_id]


def daily_energy_compute(
    *, plants: Iterable[Plant], day: date, now: datetime | None = None
) -> list[DailyEnergy]:
    """Compute and store the DailyEnergy rows of `plants` for their local `day`; returns them.

    Safe to run again at any time (rows are replaced), on any worker; incremental: a row's stored
    tally holds each inverter's counters up to a reading no later one can change, so only the
    readings from there on are read (a reading from an inverter the tally does not hold starts the
    day over). For today, `slots_expected` counts the slots begun so far (see `slots_expected`).
    """
    now = now or timezone.now()
    plants = list(plants)
    stored = {
        row.plant_id: row
        for row in DailyEnergy.objects.filter(plant__in=plants, day=day).only(
            "plant_id", "tally", "latest_slot"
        )
    }
    by_zone: defaultdict[str, list[Plant]] = defaultdict(list)
    for plant in plants:
        by_zone[plant.time_zone].append(plant)
    rows: list[DailyEnergy] = []
    flags: list[ReadingFlag] = []
    # (from, to) → plants: the flags replaced (the day's, or those after the tally)
    redone: defaultdict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    for zone_plants in by_zone.values():
        start, end = day_bounds(day, zone_plants[0].tzinfo)
        tallies = {
            pk: _DayTally(start, getattr(stored.get(pk), "tally", None)) for pk in map(_pk, zone_plants)
        }
        _read_history(tallies, start, end)
        over = {pid: _DayTally(start) for pid, tally in tallies.items() if tally.unknown_inverter}
        if over:
            _read_history(over, start, end)
            tallies.update(over)
        _without_rejected(tallies)
        _yesterdays_last(tallies, start)
        for plant in zone_plants:
            tally = tallies[plant.pk]
            redone[(tally.resume_from or start, end)].append(plant.pk)
            rows.append(_row(plant, day, tally, start, end, now, flags, stored.get(plant.pk)))
    _store(rows, flags, redone, day, now)
    return rows


def _pk(plant: Plant) -> int:
    return plant.pk


def _row(
    plant: Plant,
    day: date,
    tally: _DayTally,
    start: datetime,
    end: datetime,
    now: datetime,
    flags: list[ReadingFlag],
    stored: DailyEnergy | None,
) -> DailyEnergy:
    """The plant's DailyEnergy row from its tally (the newest slot counted kept from the stored row
    when nothing came since)."""
    latest = max(tally.slots, default=None)
    if latest is None and stored is not None and tally.resume_from is not None:
        latest = stored.latest_slot
    wh, half_hours, resume = tally.energy_wh(flags, latest)
    return DailyEnergy(
        plant=plant,
        company_id=plant.company_id,
        day=day,
        slots_with_data=tally.slots_with_data,
        slots_expected=slots_expected(plant, start, end, now),
        computed_at=now,
        latest_slot=latest,
        tally=resume,
        half_hours=half_hours,
        **wh,
    )


def _store(
    rows: list[DailyEnergy],
    flags: list[ReadingFlag],
    redone: dict[tuple[datetime, datetime], list[int]],
    day: date,
    now: datetime,
) -> None:
    """Write the rows, their months and the flags, plants locked in order so that two workers
    refreshing one plant at once write one after the other (the flags are replaced, not doubled)."""
    with transaction.atomic():
        ids = sorted(row.plant_id for row in rows)
        list(Plant.objects.filter(pk__in=ids).order_by("pk").select_for_update(no_key=True).values_list("pk"))
        for (first, end), plant_ids in redone.items():  # from where each computation started
            ReadingFlag.objects.filter(
                inverter__datalogger__plant__in=plant_ids, slot__gte=first, slot__lt=end
            ).delete()
        ReadingFlag.objects.bulk_create(flags, batch_size=1000)
        DailyEnergy.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["plant", "day"],
            update_fields=[*SUMMED_FIELDS, "computed_at", "latest_slot", "tally", "half_hours"],
            batch_size=1000,
        )
        monthly_energy_update(plant_ids=ids, month=day.replace(day=1), now=now)


def _yesterdays_last(tallies: dict[int, _DayTally], start: datetime) -> None:
    """For inverters with no reading in the hour before the day (an outage, a sleeping inverter):
    their last reading of the day before, however early in it; none older (rule 3)."""
    missing = {inverter_id: tally for tally in tallies.values() for inverter_id in tally.without_before()}
    if not missing:
        return
    last = (
        Reading.objects.filter(inverter_id__in=list(missing))
        .during(start - timedelta(days=1), start - LOOKBACK)
        .order_by("inverter_id", "-slot")
        .distinct("inverter_id")
        .values_list("inverter_id", "slot", *COUNTER_COLUMNS)
    )
    for inverter_id, slot, *values in last:
        for column, value in zip(COUNTER_COLUMNS, values, strict=True):
            if value is not None:
                missing[inverter_id].before[inverter_id][column] = (slot, value)


def monthly_energy_update(*, plant_ids: Iterable[int], month: date, now: datetime) -> None:
    """The month's rows of these plants, summed again from their daily rows (one statement)."""
    following = (month + timedelta(days=32)).replace(day=1)
    columns = ", ".join(SUMMED_FIELDS)
    sums = ", ".join(f"SUM({field})" for field in SUMMED_FIELDS)
    updates = ", ".join(f"{field} = EXCLUDED.{field}" for field in [*SUMMED_FIELDS, "computed_at"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {MonthlyEnergy._meta.db_table} (plant_id, company_id, month, {columns}, computed_at)
            SELECT plant_id, company_id, %s, {sums}, %s FROM {DailyEnergy._meta.db_table}
            WHERE plant_id = ANY(%s) AND day >= %s AND day < %s
            GROUP BY plant_id, company_id
            ON CONFLICT (plant_id, month) DO UPDATE SET {updates}
            """,
            [month, now, list(plant_ids), month, following],
        )


def local_today(plant: Plant, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), plant.tzinfo).date()


def daily_energy_today(*, plant: Plant, now: datetime | None = None) -> DailyEnergy:
    """The plant's row for today, recomputed when a poll stored a newer slot than it counted;
    otherwise its expected slots counted to `now` and stored with its month's (the beat leaves a plant
    with nothing new alone, and a plant that stopped reporting must look less complete as the day
    goes on)."""
    now = now or timezone.now()
    day = local_today(plant, now)
    row = DailyEnergy.objects.filter(plant=plant, day=day).first()
    if row is None:
        return daily_energy_compute(plants=[plant], day=day, now=now)[0]
    bounds = day_bounds(day, plant.tzinfo)
    # The beat's rule (daily_energy_due): an inverter claimed a history slot after the row's newest.
    newer = Inverter.objects.filter(
        datalogger__plant=plant, rejected_at__isnull=True, history_slot__gte=bounds[0]
    )
    if row.latest_slot is not None:
        newer = newer.filter(history_slot__gt=row.latest_slot)
    if newer.exists():
        return daily_energy_compute(plants=[plant], day=day, now=now)[0]
    expected = slots_expected(plant, *bounds, now)
    # Stored, so that the month's row and every reader after this one agree with the page. The count
    # only grows through a day: the condition keeps an older count from replacing a newer one.
    if DailyEnergy.objects.filter(pk=row.pk, slots_expected__lt=expected).update(slots_expected=expected):
        monthly_energy_update(plant_ids=[plant.pk], month=day.replace(day=1), now=now)
    row.slots_expected = max(row.slots_expected, expected)
    return row


REFRESH_BATCH = 500
REFRESHED_FIELDS = ("id", "company_id", "time_zone", "created_at")  # created_at: the slots expected


def daily_energy_due(*, now: datetime | None = None) -> dict[date, list[int]]:
    """{local day: plant ids} whose rows the beat must compute: today's of the active plants with a
    history slot stored since their row was computed (or no row yet), and yesterday's of those whose
    row was not computed after the day ended (closing it once). A plant with nothing new is left."""
    now = now or timezone.now()
    active = Plant.objects.filter(archived_at__isnull=True)
    due: defaultdict[date, set[int]] = defaultdict(set)
    for zone in active.order_by().values_list("time_zone", flat=True).distinct():
        tz = ZoneInfo(zone)
        today = timezone.localtime(now, tz).date()
        start, _end = day_bounds(today, tz)
        yesterday = today - timedelta(days=1)
        # Every history writer claims `history_slot` (docs/architecture/invariants.md).
        newer = Inverter.objects.filter(
            datalogger__plant=OuterRef("pk"), history_slot__gte=start, rejected_at__isnull=True
        )
        row = DailyEnergy.objects.filter(plant=OuterRef("pk"), day=today)
        changed = (
            active.filter(time_zone=zone)
            .annotate(counted=Subquery(row.values("latest_slot")[:1]))
            .filter(Exists(newer))
            .filter(Q(counted=None) | Exists(newer.filter(history_slot__gt=OuterRef("counted"))))
        )
        due[today].update(changed.values_list("pk", flat=True))
        closed = DailyEnergy.objects.filter(plant=OuterRef("pk"), day=yesterday, computed_at__gte=start)
        due[yesterday].update(
            active.filter(time_zone=zone).exclude(Exists(closed)).values_list("pk", flat=True)
        )
    return {day: sorted(ids) for day, ids in due.items() if ids}


def daily_energy_refresh_batch(*, plant_ids: Sequence[int], day: date, now: datetime | None = None) -> int:
    """One batch of the refresh (a Celery task on any worker); returns how many rows were written."""
    plants = Plant.objects.filter(pk__in=plant_ids, archived_at__isnull=True).only(*REFRESHED_FIELDS)
    return len(daily_energy_compute(plants=plants, day=day, now=now))


def refresh_batches(due: dict[date, list[int]]) -> list[tuple[date, list[int]]]:
    return [
        (day, ids[i : i + REFRESH_BATCH])
        for day, ids in due.items()
        for i in range(0, len(ids), REFRESH_BATCH)
    ]


def daily_energy_refresh(*, now: datetime | None = None) -> int:
    """The whole refresh in this process (tests, benchmarks): every batch that is due, in turn."""
    now = now or timezone.now()
    return sum(
        daily_energy_refresh_batch(plant_ids=ids, day=day, now=now)
        for day, ids in refresh_batches(daily_energy_due(now=now))
    )


def other_production_wh(plant: Plant, wh: dict[str, int]) -> int | None:
    """An AC-coupled retrofit plant's existing PV inverter, which AURA does not read: its production
    from the energy balance (load + export + charge − import − discharge − AURA PV), never negative.
    None for plants without one. The public definition's "Today Losses" is the same balance the other
    way round, so this is the other PV minus AURA's conversion losses: an estimate, said as such.
    UNVERIFIED: whether the load counter (3147) includes what the other PV feeds to the house."""
    if plant.system_type not in RETROFIT_TYPES:
        return None
    balance = (
        wh["consumption_wh"]
        + wh["grid_export_wh"]
        + wh["battery_charge_wh"]
        - wh["grid_import_wh"]
        - wh["battery_discharge_wh"]
        - wh["production_wh"]
    )
    return max(0, balance)


def ratios(wh: dict[str, int], *, other_wh: int | None = None) -> dict[str, float | None]:
    """Self-consumption (share of the production used on site) and self-sufficiency (share of the
    consumption not bought from the grid), in %, None where undefined (nothing produced / used)."""
    produced = wh["production_wh"] + (other_wh or 0)
    used = wh["consumption_wh"]
    self_consumption = None
    if produced:
        self_consumption = round(100 * max(0, produced - wh["grid_export_wh"]) / produced, 1)
    self_sufficiency = None
    if used:
        self_sufficiency = round(100 * max(0, used - wh["grid_import_wh"]) / used, 1)
    return {"self_consumption_pct": self_consumption, "self_sufficiency_pct": self_sufficiency}
