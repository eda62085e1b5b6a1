"""Failures no fault code shows, found from a day's production: a plant that produced far below what a
clear sky allowed at its position, on a day when its neighbours produced normally (finding P01).

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
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy
from pvlib.location import Location

from alarms.catalogue import UNDERPERFORMING
from alarms.models import Alarm
from devices.messages import Message, define
from devices.models import Datalogger
from energy.models import DailyEnergy
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
