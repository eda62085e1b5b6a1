"""Thin Celery tasks: the fleet home's figures of every company, kept fresh by the beat; the daily
findings from production."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from alarms.tasks import notify_alarm

from . import findings, fleet


@shared_task
def refresh_fleet_figures():
    """Every company's power now and production today and this month; safe to run twice."""
    return len(fleet.fleet_figures_refresh())


@shared_task(soft_time_limit=1800, time_limit=1900)
def find_daily_findings():
    """Yesterday's findings (monitoring.findings); safe to run twice (one open finding per plant and
    code)."""
    opened = findings.daily_findings(day=timezone.localdate() - timedelta(days=1))
    for alarm in opened:
        notify_alarm.delay(alarm.pk)
    return len(opened)
