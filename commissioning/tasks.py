"""Thin Celery tasks of commissioning."""

from celery import shared_task
from django.contrib.auth import get_user_model

from devices import polling, remote
from plants.models import Plant

from . import services


@shared_task(time_limit=180, soft_time_limit=150)
def apply_recommendation(change_ids, logger_ids):
    """Write the recommended settings (each read back), then poll the loggers so that the checklist
    shows what the inverters now hold; safe to run twice (finished changes are skipped)."""
    remote.setting_changes_apply(change_ids=change_ids)
    polling.poll_loggers(logger_ids)


@shared_task(time_limit=120, soft_time_limit=100)
def make_handover_report(plant_id, user_id):
    """Issue the hand-over report of a plant just commissioned; run twice, it issues one."""
    plant = Plant.objects.get(pk=plant_id)
    if plant.handover_reports.filter(created_at__gte=plant.commissioning_completed_at).exists():
        return
    services.report_make(plant=plant, by=get_user_model().objects.get(pk=user_id))


@shared_task(time_limit=600, soft_time_limit=540)
def finish_when_ready():
    """Finish the plants waiting for their first data (services.finish_when_ready), then issue their
    reports."""
    for plant_id, user_id in services.finish_when_ready():
        make_handover_report.delay(plant_id, user_id)
