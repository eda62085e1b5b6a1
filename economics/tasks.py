"""Thin Celery tasks of the economics app."""

from celery import shared_task

from . import charging, services


@shared_task(soft_time_limit=3600, time_limit=3700)
def send_monthly_reports():
    """Last month's reports to the customers who asked for them; safe to run twice."""
    return services.monthly_reports_send()


@shared_task(soft_time_limit=1800, time_limit=1900)
def plan_grid_charging():
    """Tonight's grid-charge window of the plants that opted in, once their evening has come."""
    return charging.charge_schedules_run_due()
