"""What a plant's energy is worth under its tariffs, day by day, from the half-hour split of its
daily energy (energy.DailyEnergy.half_hours). Reads only; nothing is stored.

Per half-hour h of a day, with p(h) the price of a kWh bought then and f the sale price:
- imports cost          Σ import(h) × p(h)
- the energy the house did not buy (self-consumed PV and battery discharge) is worth
                        Σ (consumption(h) − import(h)) × p(h)
- exports earn          Σ export(h) × f (surplus sale); with a total sale, the production × f, and
                        the house buys all it uses (nothing not bought, no battery share)
- the battery's share   Σ discharge(h) × p(h) − Σ charge from the grid(h) × p(h) − Σ charge from
                        PV(h) × f: what it shifted to dearer hours, less what its charge cost or did
                        not earn. The charge from the grid is taken as min(charge, import) of the
                        half-hour (the counters do not say where a charge came from): an estimate.
Amounts are exact decimals; rounding to the cent happens where they are shown.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

from energy.accounting import HALF_HOUR, day_bounds
from energy.models import WH_FIELDS, DailyEnergy
from plants.models import Plant

from .models import TEMPO_DAY_STARTS, TEMPO_PEAK_ENDS, Tariff, TempoDay

WH_PER_KWH = Decimal(1000)
ZERO = Decimal(0)


@dataclass
class Money:
    """Euros over some days (exact decimals), and how many days with energy had no price: before
    the first tariff, a Tempo day without its colour, or energy counted without a half-hour split."""

    not_bought: Decimal = ZERO
    export_income: Decimal = ZERO
    import_cost: Decimal = ZERO
    battery_share: Decimal = ZERO
    days: int = 0
    unpriced_days: int = 0

    def __add__(self, other: "Money") -> "Money":
        return Money(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def savings(self) -> Decimal:
        """What the plant brought: the energy not bought and the energy sold."""
        return self.not_bought + self.export_income


def tempo_colours(first: date, last: date) -> dict[date, str]:
    return dict(TempoDay.objects.filter(day__gte=first, day__lte=last).values_list("day", "colour"))


def half_hour_prices(
    tariff: Tariff, day: date, starts: list[datetime], colours: dict[date, str]
) -> list[Decimal] | None:
    """The price of a kWh bought in each half-hour starting at `starts` (local times of `day`), or
    None when one is not known (a Tempo colour missing)."""
    if tariff.kind == Tariff.Kind.BASE:
        return [tariff.base_price] * len(starts)
    prices = []
    for start in starts:
        minute = start.hour * 60 + start.minute
        if tariff.kind == Tariff.Kind.PEAK_OFF_PEAK:
            off_peak = any(first <= minute < end for first, end in tariff.off_peak_ranges)
            prices.append(tariff.off_peak_price if off_peak else tariff.peak_price)
            continue
        tempo_day = day if minute >= TEMPO_DAY_STARTS else day - timedelta(days=1)
        colour = colours.get(tempo_day)
        if colour is None:
            return None
        peak = TEMPO_DAY_STARTS <= minute < TEMPO_PEAK_ENDS
        prices.append(getattr(tariff, f"{colour}_{'peak' if peak else 'off_peak'}_price"))
    return prices


def day_money(plant: Plant, row: DailyEnergy, tariff: Tariff | None, colours: dict[date, str]) -> Money:
    """The day's money under `tariff` (the one in force that day)."""
    if not any(getattr(row, field) for field in WH_FIELDS):
        return Money()  # a day without energy is neither valued nor unpriced
    if tariff is None or row.half_hours is None:
        return Money(unpriced_days=1)
    halves = row.half_hours
    count = max((len(values) for values in halves.values()), default=0)
    start, _end = day_bounds(row.day, plant.tzinfo)
    starts = [(start + i * HALF_HOUR).astimezone(plant.tzinfo) for i in range(count)]
    prices = half_hour_prices(tariff, row.day, starts, colours)
    if prices is None:
        return Money(unpriced_days=1)

    def kwh(flow: str, i: int) -> Decimal:
        values = halves.get(f"{flow}_wh", ())
        return Decimal(values[i]) / WH_PER_KWH if i < len(values) else ZERO

    sale = tariff.feed_in_price if tariff.feed_in != Tariff.FeedIn.NONE else ZERO
    money = Money(days=1)
    for i, price in enumerate(prices):
        imported = kwh("grid_import", i)
        money.import_cost += imported * price
        if tariff.feed_in == Tariff.FeedIn.TOTAL:
            money.export_income += kwh("production", i) * sale
            continue
        money.not_bought += max(ZERO, kwh("consumption", i) - imported) * price
        money.export_income += kwh("grid_export", i) * sale
        charge = kwh("battery_charge", i)
        from_grid = min(charge, imported)
        money.battery_share += (
            kwh("battery_discharge", i) * price - from_grid * price - (charge - from_grid) * sale
        )
    return money


def money_by_day(
    plant: Plant, first: date, last: date, *, since: datetime | None = None
) -> list[tuple[DailyEnergy, Money]]:
    """Each daily row of `first` to `last` with its money (only the days wholly after `since`, the
    hand-over for a new owner: Plant.first_whole_day)."""
    first = max(first, plant.first_whole_day(since) or first)
    rows = list(DailyEnergy.objects.filter(plant=plant, day__gte=first, day__lte=last).order_by("day"))
    if not rows:
        return []
    tariffs = list(plant.tariffs.filter(valid_from__lte=last).order_by("valid_from"))
    colours = tempo_colours(rows[0].day - timedelta(days=1), last)
    return [(row, day_money(plant, row, in_force(tariffs, row.day), colours)) for row in rows]


def in_force(tariffs: list[Tariff], day: date) -> Tariff | None:
    """The latest of `tariffs` (oldest first) that started by `day`."""
    return next((tariff for tariff in reversed(tariffs) if tariff.valid_from <= day), None)


def total(days: Iterable[tuple[DailyEnergy, Money]]) -> Money:
    return sum((money for _row, money in days), Money())


@dataclass
class Period:
    label: str
    first: date
    last: date
    money: Money


def money_periods(
    plant: Plant,
    today: date,
    labels: dict[str, str],
    *,
    since: datetime | None = None,
    days: list[tuple[DailyEnergy, Money]] | None = None,
) -> list[Period]:
    """The periods of `labels` (keys among today, billing: the billing period so far, year: this
    year so far, all: since the first day with energy), each summed from its days, read in one query
    (or from `days`, every day up to today, when the caller has them)."""
    tariff = plant.tariffs.in_force(today)
    starts = {
        "today": today,
        "billing": tariff.billing_period_start(today) if tariff else today.replace(day=1),
        "year": today.replace(month=1, day=1),
        "all": date.min,
    }
    if days is None:
        days = money_by_day(plant, min(starts[key] for key in labels), today, since=since)
    if days:
        starts["all"] = days[0][0].day
    return [
        Period(label, starts[key], today, total((row, m) for row, m in days if starts[key] <= row.day))
        for key, label in labels.items()
    ]


def monthly(days: list[tuple[DailyEnergy, Money]]) -> list[tuple[date, Money]]:
    """The days' money summed per calendar month (dated by its first day), oldest first."""
    return _grouped(days, lambda day: day.replace(day=1))


def yearly(days: list[tuple[DailyEnergy, Money]]) -> list[tuple[date, Money]]:
    """The days' money summed per year (dated by its first day), oldest first."""
    return _grouped(days, lambda day: day.replace(month=1, day=1))


def _grouped(
    days: list[tuple[DailyEnergy, Money]], period: Callable[[date], date]
) -> list[tuple[date, Money]]:
    sums: dict[date, Money] = {}
    for row, money in days:
        key = period(row.day)
        sums[key] = sums.get(key, Money()) + money
    return sorted(sums.items())
