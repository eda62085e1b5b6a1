"""Thin Celery task: the daily energy rows, kept fresh by the beat."""

from celery import shared_task

from . import accounting

REFRESH_SECONDS = 300


# A whole fleet's day can take longer than a poll batch: its own limits, below the beat's period.
@shared_task(soft_time_limit=REFRESH_SECONDS - 30, time_limit=REFRESH_SECONDS - 10)
def refresh_daily_energy():
    """Today's rows of every plant and yesterday's once it ended; safe to run twice (rows replaced)."""
    return accounting.daily_energy_refresh()
