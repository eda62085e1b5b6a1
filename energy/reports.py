"""What the plant dashboard, its JSON endpoints and its CSV exports show, built once for all three.

Curves are the plant's history slots of one local day, summed over its inverters; a slot without a
reading is null (a gap, never interpolated). Bars are daily energy rows, summed per month or year.
"""

import itertools
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.db.models import Avg, Sum, Value
from django.db.models.functions import Collate
from django.utils import timezone
from django.utils.translation import gettext as _

from core.csvexport import copy_lines, csv_lines, sql_local_time, sql_number, sql_safe_text
from devices.fields import Bits32Field, ScaledIntegerField
from devices.models import Inverter, Reading, ReadingFlag, ReadingHour, live_totals
from devices.partitions import five_minute_history_start
from devices.registermap import BY_KEY, DERIVED_BY_KEY, HISTORY_FIELDS

from .accounting import daily_energy_today, day_bounds, local_today, other_production_wh, ratios, slot_seconds
from .forms import period_bounds
from .models import FLOWS, SUMMED_FIELDS, WH_FIELDS, DailyEnergy, MonthlyEnergy

CURVES = ["pv_power", "load_power", "battery_power", "grid_power"]
SOC = Reading._meta.get_field("battery_soc")  # averaged as a percentage, not as its stored tenths


def power_curves(plant, day, *, since=None):
    """The plant's power curves of local `day`: one value per history slot, null where none (and
    nothing before the moment `since`)."""
    start, end = day_bounds(day, plant.tzinfo)
    model, moment_field, step = _history_source(start, end)
    sums = (
        model.objects.of_plant(plant)
        .during(max(start, since or start), end)
        .values(moment_field)
        .annotate(**{key: Sum(key) for key in CURVES}, battery_soc=Avg("battery_soc", output_field=SOC))
        .order_by(moment_field)
    )
    by_slot = {row[moment_field]: row for row in sums}
    labels, series = [], {key: [] for key in [*CURVES, "battery_soc"]}
    moment = start
    while moment < end:
        labels.append(f"{timezone.localtime(moment, plant.tzinfo):%H:%M}")
        row = by_slot.get(moment, {})
        for key, values in series.items():
            value = row.get(key)
            values.append(None if value is None else round(float(value), 1))
        moment += step
    return {
        "date": day.isoformat(),
        "time_zone": plant.time_zone,
        "previous": (day - timedelta(days=1)).isoformat(),
        "next": (day + timedelta(days=1)).isoformat() if day < local_today(plant) else None,
        "slots": labels,
        "units": {key: DERIVED_BY_KEY.get(key, BY_KEY.get(key)).unit for key in series},
        "slots_with_data": len(by_slot),
        "hourly": model is ReadingHour,
        **series,
    }


def _history_source(start, end):
    """Where the history of [start, end) is read: the 5-minute readings, or for a day that ends
    before they begin (beyond the retention), the hourly roll-up. A local day that straddles their
    beginning (the oldest partition starts at midnight UTC) is read from the 5-minute readings.
    Returns the model, its time field and its step."""
    five_minute_start = five_minute_history_start()
    if five_minute_start is not None and end <= five_minute_start:
        return ReadingHour, "hour", timedelta(hours=1)
    return Reading, "slot", timedelta(seconds=slot_seconds())


def live_flow(inverters, now=None, *, since=None):
    """The plant's live figures with their age; older than two poll cycles they are stale, and the
    pages say so rather than show them as live. Values read before the moment `since` are not shown."""
    if since is not None:
        inverters = [inv for inv in inverters if inv.latest_at is not None and inv.latest_at >= since]
    live = live_totals(inverters)
    if live is None:
        return None
    age = ((now or timezone.now()) - live["at"]).total_seconds()
    rated_w = sum(inv.rated_power_w or 0 for inv in inverters if inv.counted) or None
    stale = age > 2 * settings.POLL_INTERVAL_SECONDS
    return {**live, "age_s": round(age), "stale": stale, "rated_w": rated_w}


def day_summary(plant, row):
    """A day's (or a period's) energy in Wh, with the derived production and the two ratios."""
    wh = {field: row[field] if isinstance(row, dict) else getattr(row, field) for field in WH_FIELDS}
    other = other_production_wh(plant, wh)
    return {**wh, "other_production_wh": other, **ratios(wh, other_wh=other)}


def completeness_pct(with_data, expected):
    return None if not expected else round(100 * min(with_data, expected) / expected)


def today_summary(plant, *, since=None):
    """Today's energy so far and how complete today's data is (the dashboard's tiles); zeros on the
    day of a hand-over before the moment `since` (the day's counters hold both owners' energy)."""
    row = daily_energy_today(plant=plant)
    if since is not None and row.day < plant.first_whole_day(since):
        row = DailyEnergy(plant=plant, day=row.day)
    return {
        **day_summary(plant, row),
        "day": row.day.isoformat(),
        "completeness_pct": completeness_pct(row.slots_with_data, row.slots_expected),
    }


def energy_bars(plant, period, start=None, *, since=None):
    """Energy bars: each day of a month (daily rows), each month of a year (monthly rows), or each
    year ("total", monthly rows summed). With the moment `since`, only the days wholly after it:
    months and years are then summed from the daily rows (the month of a change of owner mixes both
    owners)."""
    today = local_today(plant)
    since = plant.first_whole_day(since)
    if since is not None and period != "month":
        return _energy_bars_since(plant, period, start, since)
    daily_energy_today(plant=plant)  # today's bar is as fresh as the last poll
    previous = following = None
    if period == "total":
        rows = MonthlyEnergy.objects.filter(plant=plant).by_year()
        grouped = [{**r, "label": f"{r['period']:%Y}"} for r in rows]
    else:
        start = start or (today.replace(day=1) if period == "month" else today.replace(month=1, day=1))
        first, last, previous, following = period_bounds(period, start)
        if following > (f"{today:%Y-%m}" if period == "month" else str(today.year)):
            following = None
        if period == "month":
            rows = DailyEnergy.objects.filter(plant=plant, day__gte=max(first, since or first), day__lte=last)
            grouped = [{**_fields(r), "label": r.day.isoformat()} for r in rows]
        else:
            rows = MonthlyEnergy.objects.filter(plant=plant, month__gte=first, month__lte=last)
            grouped = [{**_fields(r), "label": f"{r.month:%Y-%m}"} for r in rows]
    return _bars(plant, period, start, previous, following, grouped)


def _energy_bars_since(plant, period, start, since):
    """Year or all-years bars from the daily rows from day `since` on, summed per month or per year."""
    today = local_today(plant)
    daily_energy_today(plant=plant)
    rows = DailyEnergy.objects.filter(plant=plant, day__gte=since)
    previous = following = None
    if period == "year":
        start = start or today.replace(month=1, day=1)
        first, last, previous, following = period_bounds(period, start)
        following = None if int(following) > today.year else following
        rows = rows.filter(day__gte=first, day__lte=last)
    label_of = (lambda day: f"{day:%Y-%m}") if period == "year" else (lambda day: f"{day:%Y}")
    sums = {}
    for row in rows:
        bar = sums.setdefault(label_of(row.day), dict.fromkeys(SUMMED_FIELDS, 0))
        for field in SUMMED_FIELDS:
            bar[field] += getattr(row, field)
    grouped = [{**fields, "label": label} for label, fields in sorted(sums.items())]
    return _bars(plant, period, start if period == "year" else None, previous, following, grouped)


def _bars(plant, period, start, previous, following, grouped):
    bars = [
        {
            "label": r["label"],
            **day_summary(plant, r),
            "completeness_pct": completeness_pct(r["slots_with_data"], r["slots_expected"]),
        }
        for r in grouped
    ]
    totals = {f: sum(b[f] for b in bars) for f in WH_FIELDS}
    return {
        "period": period,
        "date": None if start is None else (f"{start:%Y-%m}" if period == "month" else str(start.year)),
        "previous": previous,
        "next": following,
        "unit": "Wh",
        "flows": {flow: str(label) for flow, label in FLOWS.items()},
        "bars": bars,
        "totals": day_summary(plant, totals),
    }


def _fields(row):
    return {field: getattr(row, field) for field in SUMMED_FIELDS}


def readings_header():
    def label(key):
        item = DERIVED_BY_KEY.get(key) or BY_KEY[key]
        return f"{item.label} ({item.unit})" if item.unit else str(item.label)

    # Beyond the retention a row is an hour's roll-up: the count says how many readings it sums up.
    # The last column names the counters whose value energy accounting did not use (ReadingFlag).
    return [
        _("Time"),
        _("Inverter"),
        _("Readings"),
        *(label(key) for key in HISTORY_FIELDS),
        _("Not counted (glitch or spike)"),
    ]


def daily_header():
    return [
        _("Day"),
        *(f"{label} (Wh)" for label in FLOWS.values()),
        _("Other PV, derived (Wh)"),
        _("Self-consumption (%)"),
        _("Self-sufficiency (%)"),
        _("Data completeness (%)"),
    ]


def readings_lines(plant, first, last, *, since=None, serials=True):
    """The readings CSV of local days `first` to `last` as UTF-8 lines: the header, then the rows
    formatted by PostgreSQL (`readings_queries`). Without `serials` (a customer's: their pages show
    none), each inverter is named by its number on the plant."""
    header = (line.encode() for line in csv_lines([readings_header()]))
    queries = readings_queries(plant, first, last, since=since, serials=serials)
    return itertools.chain(header, copy_lines(queries))


ZONE = "inverter__datalogger__plant__time_zone"  # each row's, for its local time in SQL


def readings_queries(plant, first, last, *, since=None, serials=True):
    """The plant's history rows from local day `first` to `last` included, as (SELECT, params) for
    `copy_lines`, formatted as `csv_lines` formats cells (`safe_cell`, `local_time`): the hourly
    roll-ups beyond the retention, then the 5-minute rows; nothing before the moment `since`."""
    start, _ = day_bounds(first, plant.tzinfo)
    start = max(start, since or start)
    _, end = day_bounds(last, plant.tzinfo)
    five_minute_start = five_minute_history_start() or start
    hours = (
        ReadingHour.objects.of_plant(plant)
        .during(start, min(end, five_minute_start))
        .values_list("hour", "inverter__serial_number", "slots", "inverter_id", ZONE, *HISTORY_FIELDS)
    )
    slots = (
        Reading.objects.of_plant(plant)
        .during(max(start, five_minute_start), end)
        .values_list("slot", "inverter__serial_number", Value(1), "inverter_id", ZONE, *HISTORY_FIELDS)
    )
    # The counters accounting did not use (ReadingFlag), named in one column, joined once per row.
    flags = (
        ReadingFlag.objects.filter(inverter__datalogger__plant=plant, slot__gte=start, slot__lt=end)
        .values("inverter_id", "slot")
        .annotate(names=StringAgg("counter", " ", order_by=Collate("counter", "C")))
        .order_by()
    )
    inverter = sql_safe_text("r.serial") if serials else _inverter_numbers(plant)
    return [
        _formatted(hours.order_by(), inverter, None),
        _formatted(slots.order_by(), inverter, flags),
    ]


def _inverter_numbers(plant):
    """SQL naming each inverter of the plant by its number ("Inverter 1"), in the order they came."""
    ids = Inverter.objects.filter(datalogger__plant=plant).order_by("pk").values_list("pk", flat=True)
    label = str(_("Inverter %(n)s")).replace("'", "''")
    cases = " ".join(f"WHEN {int(pk)} THEN '{label % {'n': n}}'" for n, pk in enumerate(ids, start=1))
    return f"CASE r.inverter {cases} END" if cases else "NULL"


def _formatted(rows, inverter, flags):
    """(SELECT, params): `rows` (time, serial, count, inverter, history values…) as the export's
    cells, the inverter named by the SQL `inverter`, with the names of the counters `flags` has for
    each row (none when None)."""
    inner, params = rows.query.sql_with_params()
    names = ["at", "serial", "readings", "inverter", "zone", *HISTORY_FIELDS]
    cells = [
        sql_local_time("r.at", "r.zone"),
        inverter,
        "r.readings",
        *(sql_number(_sql_number(Reading._meta.get_field(key), f"r.{key}")) for key in HISTORY_FIELDS),
        "f.names" if flags is not None else "NULL",
    ]
    select = f"SELECT {', '.join(cells)} FROM ({inner}) AS r({', '.join(names)})"
    if flags is not None:
        flags_sql, flags_params = flags.query.sql_with_params()
        joined = "f.inverter = r.inverter AND f.slot = r.at"
        select += f" LEFT JOIN ({flags_sql}) AS f(inverter, slot, names) ON {joined}"
        params = (*params, *flags_params)
    return f"{select} ORDER BY r.at, r.serial", params


def _sql_number(field, column):
    """SQL for a history column as the model gives it to Python (and `str` to the CSV)."""
    if isinstance(field, ScaledIntegerField):  # 123 → 12.3: a Decimal of the field's places
        return f"round({column}::numeric / {10**field.decimal_places}, {field.decimal_places})"
    if isinstance(field, Bits32Field):  # the 32 bits, unsigned
        return f"({column}::bigint & 4294967295)"
    return column


def daily_rows(plant, first, last, header, *, since=None):
    """The plant's daily energy rows from `first` to `last`, only the days wholly after the moment
    `since`."""
    first = max(first, plant.first_whole_day(since) or first)
    yield header
    for row in DailyEnergy.objects.filter(plant=plant, day__gte=first, day__lte=last).iterator():
        summary = day_summary(plant, row)
        yield [
            row.day.isoformat(),
            *(summary[f] for f in WH_FIELDS),
            summary["other_production_wh"],
            summary["self_consumption_pct"],
            summary["self_sufficiency_pct"],
            completeness_pct(row.slots_with_data, row.slots_expected),
        ]
