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
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from itertools import takewhile
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from devices.models import Reading, ReadingFlag
from devices.polling import history_slot
from devices.registermap import DAY_COUNTERS
from plants.models import Plant, SystemType

from .models import FLOWS, SUMMED_FIELDS, WH_FIELDS, DailyEnergy, MonthlyEnergy

# A reading this long before midnight tells whether the first reading of the day still carries
# yesterday's count (an inverter clock a few minutes late) or was already reset.
LOOKBACK = timedelta(hours=1)
RETROFIT_TYPES = {SystemType.DC_AC, SystemType.DC_AC_BACKUP, SystemType.AC, SystemType.AC_BACKUP}
COUNTER_COLUMNS = [DAY_COUNTERS[flow] for flow in FLOWS]

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
# 3. After midnight, readings whose counters are not below the last reading before the day (however
#    old) are still yesterday's until the counters fall: an inverter clock minutes late resets after
#    local midnight. Only within CLOCK_DRIFT of midnight, so that a counter that never resets is
#    still counted.
# Ignored readings stay in the history as they were read.
GLITCH_WINDOW = timedelta(hours=1)
CLOCK_DRIFT = timedelta(hours=1)
RESIDENTIAL_MAX_KW = 36
COUNTER_STEP_KWH = Decimal("0.2")


def max_kw(rated_power_w: int | None) -> float:
    return max(RESIDENTIAL_MAX_KW, 2 * (rated_power_w or 0) / 1000)


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
    ignored = [] if ignored is None else ignored
    known: list[SlotValue] = [(slot, value) for slot, value in readings if value is not None]
    total = Decimal(0)
    last_at: datetime | None
    last: Decimal | None
    last_at, last = before if before is not None else (None, None)
    yesterdays = before is not None
    for i, (slot, value) in enumerate(known):
        if last is None or last_at is None:
            total, last_at, last = total + value, slot, value
            continue
        if value < last:
            if _comes_back(known[i + 1 :], since=slot, level=last):
                ignored.append((slot, ReadingFlag.Reason.GLITCH))
                continue  # 1. a dip that comes back
            total += value  # a reset: counts again from zero
            yesterdays = False
        else:
            # kWh per hour, compared in exact decimals (a float hour made a rise at the limit a spike).
            seconds = Decimal(int((slot - last_at).total_seconds()))
            if (value - last - COUNTER_STEP_KWH) * 3600 > Decimal(str(limit_kw)) * seconds:
                ignored.append((slot, ReadingFlag.Reason.SPIKE))
                continue  # 2. a spike
            if not (yesterdays and day_start is not None and slot < day_start + CLOCK_DRIFT):
                total += value - last  # 3. else still yesterday's count
        last_at, last = slot, value
    return total


def _comes_back(later: Sequence[SlotValue], *, since: datetime, level: Decimal) -> bool:
    """Whether a reading within GLITCH_WINDOW of `since` is back at `level` or above."""
    window = takewhile(lambda reading: reading[0] - since <= GLITCH_WINDOW, later)
    return any(value >= level for _slot, value in window)


class _DayTally:
    """One plant's readings of one day, as they stream in (inverter by inverter, slot by slot)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.slots: set[datetime] = set()
        self.series: defaultdict[int, defaultdict[str, list[tuple[datetime, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )  # inverter → column → (slot, value) of the day
        self.before: defaultdict[int, dict[str, SlotValue]] = defaultdict(
            dict
        )  # inverter → column → last (slot, value) before the day
        self.rated_w: dict[int, int | None] = {}

    def add(
        self, inverter_id: int, slot: datetime, values: Sequence[Decimal | None], rated_w: int | None = None
    ) -> None:
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
        """Inverters of the day with no reading in the hour before it."""
        return [inverter_id for inverter_id in self.series if not self.before[inverter_id]]

    def energy_wh(self, flags: list[ReadingFlag]) -> dict[str, int]:
        """The day's energy by flow, in Wh; the readings it ignored are added to `flags`."""
        wh = dict.fromkeys(WH_FIELDS, 0)
        for inverter_id, columns in self.series.items():
            limit = max_kw(self.rated_w.get(inverter_id))
            for flow, column in zip(FLOWS, COUNTER_COLUMNS, strict=True):
                ignored: list[tuple[datetime, str]] = []
                kwh = counted(
                    columns[column],
                    before=self.before[inverter_id].get(column),
                    day_start=self.start,
                    limit_kw=limit,
                    ignored=ignored,
                )
                wh[f"{flow}_wh"] += int(kwh * 1000)
                flags += [
                    ReadingFlag(inverter_id=inverter_id, slot=slot, counter=column, reason=reason)
                    for slot, reason in ignored
                ]
        return wh


def daily_energy_compute(
    *, plants: Iterable[Plant], day: date, now: datetime | None = None
) -> list[DailyEnergy]:
    """Compute and store the DailyEnergy rows of `plants` for their local `day`; returns them.

    Safe to run again at any time (rows are replaced); for today, `slots_expected` counts the slots
    begun so far (see `slots_expected`), so that completeness says how much of the day has data.
    """
    now = now or timezone.now()
    by_zone: defaultdict[str, list[Plant]] = defaultdict(list)
    for plant in plants:
        by_zone[plant.time_zone].append(plant)
    rows: list[DailyEnergy] = []
    flags: list[ReadingFlag] = []
    days: list[tuple[list[Plant], datetime, datetime]] = []
    for zone_plants in by_zone.values():
        tz = zone_plants[0].tzinfo
        start, end = day_bounds(day, tz)
        tallies = {plant.pk: _DayTally(start) for plant in zone_plants}
        days.append((zone_plants, start, end))
        # A rejected replacement is not the plant's inverter: its readings are not the plant's energy.
        readings = (
            Reading.objects.filter(
                inverter__datalogger__plant__in=list(tallies), inverter__rejected_at__isnull=True
            )
            .during(start - LOOKBACK, end)
            .order_by("inverter_id", "bucket", "slot")
            .values_list(
                "inverter__datalogger__plant_id",
                "inverter_id",
                "slot",
                "inverter__rated_power_w",
                *COUNTER_COLUMNS,
            )
        )
        # A replacement's first reading counts whole: its day counter started when it was powered on
        # here (the replaced inverter's last reading ended its own part of the day).
        for plant_id, inverter_id, slot, rated_w, *values in readings.iterator(chunk_size=5000):
            tallies[plant_id].add(inverter_id, slot, values, rated_w)
        _yesterdays_last(tallies, start)
        for plant in zone_plants:
            tally = tallies[plant.pk]
            rows.append(
                DailyEnergy(
                    plant=plant,
                    company_id=plant.company_id,
                    day=day,
                    slots_with_data=len(tally.slots),
                    slots_expected=slots_expected(plant, start, end, now),
                    computed_at=now,
                    **tally.energy_wh(flags),
                )
            )
    with transaction.atomic():
        for zone_plants, start, end in days:  # the day's flags, as this computation found them
            ReadingFlag.objects.filter(
                inverter__datalogger__plant__in=zone_plants, slot__gte=start, slot__lt=end
            ).delete()
        ReadingFlag.objects.bulk_create(flags, batch_size=1000)
        DailyEnergy.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["plant", "day"],
            update_fields=[*SUMMED_FIELDS, "computed_at"],
            batch_size=1000,
        )
        monthly_energy_update(plant_ids=[row.plant_id for row in rows], month=day.replace(day=1), now=now)
    return rows


def _yesterdays_last(tallies: dict[int, _DayTally], start: datetime) -> None:
    """For inverters with no reading in the hour before the day (an outage, a sleeping inverter):
    their last reading of the day before, however old (rule 3)."""
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
    """The plant's row for today, recomputed when a poll stored readings since it was computed."""
    now = now or timezone.now()
    day = local_today(plant, now)
    row = DailyEnergy.objects.filter(plant=plant, day=day).first()
    if row is None:
        return daily_energy_compute(plants=[plant], day=day, now=now)[0]
    latest_slot = (
        Reading.objects.of_plant(plant)
        .during(*day_bounds(day, plant.tzinfo))
        .order_by("-slot")
        .values_list("slot", flat=True)
        .first()
    )
    if latest_slot is not None and latest_slot >= row.computed_at - timedelta(seconds=slot_seconds()):
        row = daily_energy_compute(plants=[plant], day=day, now=now)[0]
    return row


REFRESH_BATCH = 500


def daily_energy_refresh(*, now: datetime | None = None) -> int:
    """The beat's work: every active plant's row for today, and yesterday's where it was not yet
    computed after the day ended (closing it once). Returns how many rows were written."""
    now = now or timezone.now()
    plants = (
        Plant.objects.filter(archived_at__isnull=True)
        .only("id", "company_id", "time_zone", "created_at")  # created_at: the slots expected
        .order_by("id")
    )
    written = 0
    for offset in range(0, plants.count(), REFRESH_BATCH):
        batch = list(plants[offset : offset + REFRESH_BATCH])
        by_day: defaultdict[date, list[Plant]] = defaultdict(list)
        for plant in batch:
            by_day[local_today(plant, now)].append(plant)
        yesterdays = {day - timedelta(days=1) for day in by_day}
        rows = DailyEnergy.objects.filter(plant__in=batch, day__in=yesterdays)
        computed = {(pid, day): at for pid, day, at in rows.values_list("plant_id", "day", "computed_at")}
        for today, day_plants in list(by_day.items()):
            yesterday = today - timedelta(days=1)
            for plant in day_plants:
                at = computed.get((plant.pk, yesterday))
                if at is None or at < day_bounds(yesterday, plant.tzinfo)[1]:
                    by_day[yesterday].append(plant)
        for day, day_plants in by_day.items():
            written += len(daily_energy_compute(plants=day_plants, day=day, now=now))
    return written


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
