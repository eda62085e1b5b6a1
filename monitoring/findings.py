"""Failures no fault code shows, found from a day's data: a plant that produced far below what a clear
sky allowed at its position, on a day when its neighbours produced normally (P01); a battery that
never cycles (P03); a grid-charge window that charged nothing (P04); a day counter that stopped (P05).

The expectation is pvlib's clear-sky irradiance (the Haurwitz model: no internet, no turbidity
tables) on the horizontal, times the plant's kWp and a performance ratio: a tilt-less estimate, so
that only a large shortfall counts, and only when the plants around did not fall short too (clouds
fall on the neighbours as well).
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy
from pvlib.location import Location

from alarms.catalogue import (
    BATTERY_AGEING_FAST,
    BATTERY_IDLE,
    BATTERY_WORN,
    COUNTER_STOPPED,
    GRID_CHARGE_MISSED,
    NO_PRODUCTION,
    UNDERPERFORMING,
)
from alarms.models import Alarm
from devices.messages import Message, define
from devices.models import Datalogger, InverterLive, Reading
from energy.models import BatteryDay, DailyEnergy
from plants.models import Plant

PERFORMANCE_RATIO = 0.75  # measured / (kWp × horizontal clear-sky irradiance) of a healthy plant
LOW_SHARE = 0.5  # a plant below half its expectation...
NEIGHBOURS_NORMAL = 0.7  # ...while its neighbours' median reached this
RADIUS_KM = 50
MIN_NEIGHBOURS = 2
MIN_COMPLETE = 0.9  # the share of the day's history slots with a reading: a day with gaps says nothing
CELL_DEGREES = 0.5  # neighbours are looked for in the grid cells around a plant

DETAIL = define(
    "finding.underperforming",
    gettext_lazy(
        "%(day)s: %(measured)s kWh produced, %(expected)s kWh expected under a clear sky (%(share)s %%); "
        "%(neighbours)s plants within %(radius)s km produced %(neighbours_share)s %% of theirs (median)."
    ),
)


@dataclass
class PlantDay:
    plant: Plant
    measured_kwh: float
    expected_kwh: float

    @property
    def share(self) -> float:
        return self.measured_kwh / self.expected_kwh if self.expected_kwh else 1.0


def clear_sky_kwh(*, latitude: float, longitude: float, time_zone: str, day: date, kwp: float) -> float:
    """What `kwp` of flat panels would give over the local `day` under a clear sky, with a healthy
    plant's losses (PERFORMANCE_RATIO)."""
    tz = ZoneInfo(time_zone)
    start = datetime.combine(day, time(), tz)
    times = pd.date_range(start, start + timedelta(days=1), freq="10min", inclusive="left")
    ghi = Location(latitude, longitude, time_zone).get_clearsky(times, model="haurwitz")["ghi"]
    return float(ghi.sum()) * (10 / 60) / 1000 * kwp * PERFORMANCE_RATIO


def _days(day: date) -> list[PlantDay]:
    """The plants with a typed position and a complete day of data, with their measured and
    expected energy. Plants placed from their time zone are left out: their neighbours are guesses."""
    rows = DailyEnergy.objects.filter(
        day=day,
        plant__archived_at__isnull=True,
        plant__latitude__isnull=False,
        plant__longitude__isnull=False,
        slots_expected__gt=0,
    ).select_related("plant")
    days = []
    for row in rows:
        if row.slots_with_data < MIN_COMPLETE * row.slots_expected:
            continue
        plant = row.plant
        expected = clear_sky_kwh(
            latitude=float(plant.latitude),
            longitude=float(plant.longitude),
            time_zone=plant.time_zone,
            day=day,
            kwp=float(plant.pv_power_kwp),
        )
        days.append(PlantDay(plant, row.production_wh / 1000, expected))
    return days


def _distance_km(a: Plant, b: Plant) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a.coordinates, *b.coordinates))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def _cell(plant: Plant) -> tuple[int, int]:
    lat, lon = plant.coordinates
    return math.floor(lat / CELL_DEGREES), math.floor(lon / CELL_DEGREES)


def underperformers(days: list[PlantDay]) -> list[tuple[PlantDay, list[PlantDay]]]:
    """Of one day's plants, those far below their expectation whose neighbours were not, with
    those neighbours."""
    days = [d for d in days if d.expected_kwh > 0]
    cells = defaultdict(list)
    for d in days:
        cells[_cell(d.plant)].append(d)
    found = []
    for d in days:
        if d.share >= LOW_SHARE:
            continue
        row, col = _cell(d.plant)
        around = [n for r in (row - 1, row, row + 1) for c in (col - 1, col, col + 1) for n in cells[(r, c)]]
        neighbours = [n for n in around if n is not d and _distance_km(n.plant, d.plant) <= RADIUS_KM]
        if (
            len(neighbours) >= MIN_NEIGHBOURS
            and statistics.median(n.share for n in neighbours) >= NEIGHBOURS_NORMAL
        ):
            found.append((d, neighbours))
    return found


def underperformance_findings(*, day: date) -> list[Alarm]:
    """Open P01 on each plant found on `day` (one open per plant), clear it on plants of that day
    that produced normally again. Safe to run twice. Returns the alarms opened."""
    days = _days(day)
    opened = []
    for d, neighbours in underperformers(days):
        logger = Datalogger.objects.active().filter(plant=d.plant).order_by("pk").first()
        if logger is None:
            continue
        share = round(100 * d.share)
        alarm = Alarm(
            plant=d.plant,
            datalogger=logger,
            code_id=UNDERPERFORMING,
            started_at=datetime.combine(day + timedelta(days=1), time(), d.plant.tzinfo),
            detail=Message(
                DETAIL,
                {
                    "day": day.isoformat(),
                    "measured": round(d.measured_kwh, 1),
                    "expected": round(d.expected_kwh, 1),
                    "share": share,
                    "neighbours": len(neighbours),
                    "radius": RADIUS_KM,
                    "neighbours_share": round(100 * statistics.median(n.share for n in neighbours)),
                },
            ),
        )
        try:
            with transaction.atomic():
                alarm.save()
        except IntegrityError:
            continue  # open already, from an earlier day or run
        opened.append(alarm)
    recovered = [d.plant.pk for d in days if d.share >= NEIGHBOURS_NORMAL]
    Alarm.objects.filter(code_id=UNDERPERFORMING, plant_id__in=recovered).clear(timezone.now())
    return opened


IDLE_DAYS = 3  # whole days without a charge or a discharge
PV_SEEN_W = 100  # a day counter that stays at zero while readings show this much PV has stopped

WORN_DETAIL = define(
    "finding.battery_worn",
    gettext_lazy("State of health %(soh)s %% on %(day)s, under the warranty level of %(level)s %%."),
)
AGEING_DETAIL = define(
    "finding.battery_ageing",
    gettext_lazy(
        "State of health from %(before)s %% on %(first)s to %(soh)s %% on %(day)s: "
        "%(drop)s points in %(days)s days."
    ),
)
IDLE_DETAIL = define(
    "finding.battery_idle",
    gettext_lazy("No charge and no discharge from %(first)s to %(last)s (%(days)s whole days of data)."),
)
MISSED_DETAIL = define(
    "finding.grid_charge_missed",
    gettext_lazy(
        "%(day)s: grid charging on from %(start)s to %(end)s (up to %(max_soc)s %%), no charge in the "
        "window; state of charge %(soc)s %% at its start."
    ),
)
NO_PRODUCTION_MIN_KWH = 1.0  # a clear sky that promised less (polar night, a tiny plant) says nothing
NONE_DETAIL = define(
    "finding.no_production",
    gettext_lazy(
        "%(day)s: 0 kWh produced and no PV power read all day; a clear sky allowed %(expected)s kWh."
    ),
)
STOPPED_DETAIL = define(
    "finding.counter_stopped",
    gettext_lazy("%(day)s: the PV day counter stayed at 0 kWh while readings showed up to %(peak)s W of PV."),
)


def _complete(rows):
    return [r for r in rows if r.slots_expected and r.slots_with_data >= MIN_COMPLETE * r.slots_expected]


def _open_finding(plant, code, day, detail) -> Alarm | None:
    """Open a finding on the plant (one open per plant and code); None when one is open already."""
    logger = Datalogger.objects.active().filter(plant=plant).order_by("pk").first()
    if logger is None:
        return None
    alarm = Alarm(
        plant=plant,
        datalogger=logger,
        code_id=code,
        started_at=datetime.combine(day + timedelta(days=1), time(), plant.tzinfo),
        detail=detail,
    )
    try:
        with transaction.atomic():
            alarm.save()
    except IntegrityError:
        return None
    return alarm


def battery_idle_findings(*, day: date) -> list[Alarm]:
    """P03 on plants whose battery neither charged nor discharged on each of the IDLE_DAYS whole days
    up to `day`; cleared on plants whose battery moved on `day`."""
    first = day - timedelta(days=IDLE_DAYS - 1)
    rows = DailyEnergy.objects.filter(
        day__range=(first, day), plant__archived_at__isnull=True
    ).select_related("plant")
    by_plant = defaultdict(list)
    for row in _complete(rows):
        by_plant[row.plant].append(row)
    opened, moved = [], []
    for plant, days in by_plant.items():
        if len(days) == IDLE_DAYS and not any(r.battery_charge_wh or r.battery_discharge_wh for r in days):
            params = {"first": first.isoformat(), "last": day.isoformat(), "days": IDLE_DAYS}
            opened.append(_open_finding(plant, BATTERY_IDLE, day, Message(IDLE_DETAIL, params)))
        elif any(r.day == day and (r.battery_charge_wh or r.battery_discharge_wh) for r in days):
            moved.append(plant.pk)
    Alarm.objects.filter(code_id=BATTERY_IDLE, plant_id__in=moved).clear(timezone.now())
    return [a for a in opened if a is not None]


def zero_production_findings(*, day: date) -> list[Alarm]:
    """For plants whose PV day counter gave 0 kWh over a whole day of data: P05 when their readings
    showed PV power (the counter stopped: that day's energy figures are wrong), P06 when they showed
    none while the clear sky promised some (no production: isolator, breaker, connectors, snow)."""
    zero = _complete(DailyEnergy.objects.filter(day=day, production_wh=0).select_related("plant"))
    opened = []
    for row in zero:
        plant = row.plant
        start = datetime.combine(day, time(), plant.tzinfo)
        peak = (
            Reading.objects.of_plant(plant)
            .during(start, start + timedelta(days=1))
            .aggregate(peak=Max("pv_power"))
        )["peak"]
        if peak is not None and peak >= PV_SEEN_W:
            detail = Message(STOPPED_DETAIL, {"day": day.isoformat(), "peak": round(peak)})
            opened.append(_open_finding(plant, COUNTER_STOPPED, day, detail))
            continue
        latitude, longitude = plant.coordinates
        expected = clear_sky_kwh(
            latitude=latitude,
            longitude=longitude,
            time_zone=plant.time_zone,
            day=day,
            kwp=float(plant.pv_power_kwp),
        )
        if expected >= NO_PRODUCTION_MIN_KWH:
            detail = Message(NONE_DETAIL, {"day": day.isoformat(), "expected": round(expected, 1)})
            opened.append(_open_finding(plant, NO_PRODUCTION, day, detail))
    return [a for a in opened if a is not None]


def grid_charge_findings(*, day: date) -> list[Alarm]:
    """P04 on plants whose inverter has grid charging on (its last values), whose battery was below
    the charge's maximum SOC when the window opened on `day`, and which charged nothing in it."""
    opened = []
    lives = InverterLive.objects.filter(
        values__grid_charge_enable=1,
        inverter__ended_at__isnull=True,
        inverter__datalogger__archived_at__isnull=True,
    ).select_related("inverter__datalogger__plant")
    for live in lives:
        plant = live.inverter.datalogger.plant
        values = live.values
        window = _window(day, values.get("grid_charge_start"), values.get("grid_charge_end"), plant.tzinfo)
        if window is None:
            continue
        readings = list(
            Reading.objects.filter(inverter=live.inverter)
            .during(*window)
            .order_by("slot")
            .values("battery_power", "battery_soc")
        )
        if len(readings) < 3:
            continue  # too little data in the window to say
        soc = readings[0]["battery_soc"]
        charged = any((r["battery_power"] or 0) < -PV_SEEN_W for r in readings)
        if soc is None or charged or soc >= values.get("grid_charge_max_soc", 100):
            continue
        params = {
            "day": day.isoformat(),
            "start": values["grid_charge_start"],
            "end": values["grid_charge_end"],
            "max_soc": values.get("grid_charge_max_soc"),
            "soc": float(soc),
        }
        opened.append(_open_finding(plant, GRID_CHARGE_MISSED, day, Message(MISSED_DETAIL, params)))
    return [a for a in opened if a is not None]


def _window(day, start, end, tz):
    """The grid-charge window that opens on `day` (it may end the next morning), or None."""
    try:
        (h1, m1), (h2, m2) = (map(int, t.split(":")) for t in (start, end))
    except (AttributeError, TypeError, ValueError):
        return None
    opens = datetime.combine(day, time(h1, m1), tz)
    closes = datetime.combine(day, time(h2, m2), tz)
    if closes <= opens:
        closes += timedelta(days=1)
    return opens, closes


def battery_health_findings(*, day: date) -> list[Alarm]:
    """P07 on plants whose battery's state of health on `day` is under BATTERY_WARRANTY_SOH_PCT;
    P08 where it is more than BATTERY_SOH_DROP_PCT points under its highest of the BATTERY_SOH_DROP_DAYS
    before.
    Each clears when the battery's day no longer shows it (a battery replaced, a BMS recalibrated)."""
    first = day - timedelta(days=settings.BATTERY_SOH_DROP_DAYS)
    today = {
        r.inverter_id: r
        for r in BatteryDay.objects.filter(day=day, soh_pct__isnull=False).select_related("plant")
    }
    before = {
        r.inverter_id: r
        for r in BatteryDay.objects.filter(
            inverter_id__in=today, day__gte=first, day__lt=day, soh_pct__isnull=False
        )
        .order_by("inverter_id", "-soh_pct", "day")  # each battery's highest day in the period
        .distinct("inverter_id")
    }
    opened, worn, ageing = [], set(), set()
    for inverter_id, row in today.items():
        if row.soh_pct < settings.BATTERY_WARRANTY_SOH_PCT:
            worn.add(row.plant_id)
            params = {
                "soh": float(row.soh_pct),
                "day": day.isoformat(),
                "level": settings.BATTERY_WARRANTY_SOH_PCT,
            }
            opened.append(_open_finding(row.plant, BATTERY_WORN, day, Message(WORN_DETAIL, params)))
        earlier = before.get(inverter_id)
        if earlier is not None and earlier.soh_pct - row.soh_pct > settings.BATTERY_SOH_DROP_PCT:
            ageing.add(row.plant_id)
            params = {
                "before": float(earlier.soh_pct), "first": earlier.day.isoformat(),
                "soh": float(row.soh_pct), "day": day.isoformat(),
                "drop": float(earlier.soh_pct - row.soh_pct), "days": (day - earlier.day).days,
            }  # fmt: skip
            opened.append(_open_finding(row.plant, BATTERY_AGEING_FAST, day, Message(AGEING_DETAIL, params)))
    seen = {row.plant_id for row in today.values()}
    now = timezone.now()
    Alarm.objects.filter(code_id=BATTERY_WORN, plant_id__in=seen - worn).clear(now)
    Alarm.objects.filter(code_id=BATTERY_AGEING_FAST, plant_id__in=seen - ageing).clear(now)
    return [a for a in opened if a is not None]


def daily_findings(*, day: date) -> list[Alarm]:
    """Every daily finding for `day`; safe to run twice."""
    return [
        *underperformance_findings(day=day),
        *battery_idle_findings(day=day),
        *zero_production_findings(day=day),
        *grid_charge_findings(day=day),
        *battery_health_findings(day=day),
    ]
