"""Thin Celery tasks of the data rights: a customer's data copy, built in the background; expired copies
removed daily."""

from celery import shared_task

from accounts.models import DataExport

from . import services


@shared_task(time_limit=1800, soft_time_limit=1750)
def build_data_export(export_id):
    services.data_export_build(export_id=export_id)


@shared_task
def purge_data_exports():
    return DataExport.purge()
