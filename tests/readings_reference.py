"""The readings CSV as the Python writer wrote it before PostgreSQL formatted it: the reference its
bytes are compared with (tests/test_readings_export.py) and its speed measured against (bench-web)."""

from datetime import datetime, timedelta

from django.db.models import Value

from core.csvexport import csv_lines, local_time
from devices.models import Reading, ReadingHour
from devices.partitions import five_minute_history_start
from devices.registermap import HISTORY_FIELDS
from energy import reports


def python_lines(plant, first, last):
    """The export as the Python writer wrote it before PostgreSQL did (the reference)."""
    tz = plant.tzinfo
    start = datetime.combine(first, datetime.min.time(), tz)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    five_minute_start = five_minute_history_start() or start
    hours = (
        ReadingHour.objects.of_plant(plant)
        .during(start, min(end, five_minute_start))
        .order_by("hour", "inverter__serial_number")
        .values_list("hour", "inverter__serial_number", "slots", *HISTORY_FIELDS, Value(""))
    )
    slots = (
        Reading.objects.of_plant(plant)
        .during(max(start, five_minute_start), end)
        .with_not_counted()
        .order_by("slot", "inverter__serial_number")
        .values_list("slot", "inverter__serial_number", Value(1), *HISTORY_FIELDS, "not_counted")
    )
    rows = [reports.readings_header()]
    for part in (hours, slots):
        for moment, serial, count, *values, ignored in part.iterator(chunk_size=2000):
            rows.append([local_time(moment, tz), serial, count, *values, " ".join(sorted(ignored or []))])
    return "".join(csv_lines(rows)).encode()
