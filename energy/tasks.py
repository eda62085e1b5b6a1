"""Thin Celery tasks: the daily energy rows, kept fresh by the beat, in batches any worker takes."""

from datetime import date

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import accounting, battery, exports
from .models import ReadingsExport

REFRESH_SECONDS = 300


@shared_task(soft_time_limit=60, time_limit=90)
def refresh_daily_energy():
    """Find the plants whose rows are out of date and hand them out in batches; returns how many
    batches. Safe to run twice (a batch recomputes from the stored tally: rows replaced)."""
    now = timezone.now()
    batches = accounting.refresh_batches(accounting.daily_energy_due(now=now))
    for day, plant_ids in batches:
        refresh_energy_batch.apply_async(
            (plant_ids, day.isoformat(), now.isoformat()), expires=REFRESH_SECONDS
        )
    return len(batches)


# A batch of a whole fleet's first day can be long: its own limits, below the beat's period.
@shared_task(soft_time_limit=REFRESH_SECONDS - 30, time_limit=REFRESH_SECONDS - 10)
def refresh_energy_batch(plant_ids, day, now):
    return accounting.daily_energy_refresh_batch(
        plant_ids=plant_ids, day=date.fromisoformat(day), now=parse_datetime(now)
    )


@shared_task(time_limit=3600, soft_time_limit=3500)
def build_readings_export(export_id):
    exports.readings_export_build(export_id=export_id)


@shared_task
def purge_readings_exports():
    return ReadingsExport.purge()


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def record_battery_days():
    """Today's state of health and discharge total of every battery (hourly: the day's last wins)."""
    battery.battery_days_record()
