"""Battery health over time: each battery's state of health and discharge total kept per local day,
and the equivalent full cycles they make."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from devices.models import Inverter

from .models import BatteryDay

BATCH = 1000


def battery_days_record(*, now: datetime | None = None) -> int:
    """Write today's row of every battery from its inverter's latest values (the last of the day
    wins: safe to run as often as wanted); returns how many rows were written. Values read before
    the plant's current local day are left to that day's row."""
    now = now or timezone.now()
    inverters = (
        Inverter.objects.counted()
        .filter(datalogger__archived_at__isnull=True, datalogger__plant__archived_at__isnull=True)
        .filter(live__values__has_key="battery_soh")
        .annotate(plant_id=F("datalogger__plant_id"), at=F("live__at"), values=F("live__values"))
        .select_related("datalogger__plant")
    )
    written = 0
    rows: list[BatteryDay] = []
    for inverter in inverters.iterator(chunk_size=BATCH):
        plant = inverter.datalogger.plant
        day = timezone.localdate(inverter.at, plant.tzinfo)
        if day != timezone.localdate(now, plant.tzinfo):
            continue
        rows.append(battery_day(inverter, plant, day, inverter.values))
        if len(rows) == BATCH:
            written += _upsert(rows)
            rows = []
    return written + _upsert(rows)


def battery_day(inverter, plant, day, values) -> BatteryDay:
    soh, total = values.get("battery_soh"), values.get("battery_discharge_total")
    capacity = plant.battery_usable_kwh
    return BatteryDay(
        plant_id=plant.pk,
        inverter_id=inverter.pk,
        day=day,
        soh_pct=None if soh is None else Decimal(str(soh)).quantize(Decimal("0.1")),
        discharge_total_kwh=None if total is None else int(total),
        cycles=None
        if total is None or not capacity
        else (Decimal(int(total)) / capacity).quantize(Decimal("0.1")),
    )


def _upsert(rows: list[BatteryDay]) -> int:
    if rows:
        BatteryDay.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["inverter", "day"],
            update_fields=["soh_pct", "discharge_total_kwh", "cycles"],
        )
    return len(rows)


CHART_WIDTH, CHART_HEIGHT = 600, 160


def battery_charts(plant, *, user, days: int = 365) -> list[dict]:
    """Each battery of `plant` with its stored days (those `user` may see, the last `days`): its
    latest state of health and cycles, and its state of health as an SVG polyline (0–100 %)."""
    since = timezone.localdate(timezone.now(), plant.tzinfo) - timedelta(days=days)
    rows = BatteryDay.objects.restrict(user).filter(plant=plant, day__gte=since).select_related("inverter")
    by_inverter: dict = {}
    for row in rows.order_by("inverter_id", "day"):
        by_inverter.setdefault(row.inverter, []).append(row)
    return [
        {
            "inverter": inverter,
            "latest": battery[-1],
            "points": _points(battery, since, days),
            "days": battery,
        }
        for inverter, battery in by_inverter.items()
    ]


def _points(battery: list[BatteryDay], since, days: int) -> str:
    """The state of health as SVG points: x by day over the period, y from 100 % (top) to 0 %."""
    points = []
    for row in battery:
        if row.soh_pct is None:
            continue
        x = round((row.day - since).days / days * CHART_WIDTH, 1)
        y = round((1 - float(row.soh_pct) / 100) * CHART_HEIGHT, 1)
        points.append(f"{x},{y}")
    return " ".join(points)
