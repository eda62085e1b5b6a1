"""Thin Celery tasks of the economics app."""

from celery import shared_task

from . import services


@shared_task(soft_time_limit=3600, time_limit=3700)
def send_monthly_reports():
    """Last month's reports to the customers who asked for them; safe to run twice."""
    return services.monthly_reports_send()
