"""Thin Celery task: the fleet home's figures of every company, kept fresh by the beat."""

from celery import shared_task

from . import fleet


@shared_task
def refresh_fleet_figures():
    """Every company's power now and production today and this month; safe to run twice."""
    return len(fleet.fleet_figures_refresh())
