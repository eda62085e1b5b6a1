"""Thin Celery tasks: beat starts a cycle; each batch task polls ids through devices.polling."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.heartbeat import poll_cycle_sent

from . import bulk, partitions, polling, remote


@shared_task
def start_poll_cycle():
    """Split the due loggers into batches and hand each batch to a worker."""
    cycle_at = timezone.now().isoformat()
    ids = polling.due_logger_ids()
    for batch in polling.batches(ids, settings.POLL_BATCH_SIZE):
        poll_batch.apply_async((batch, cycle_at), expires=settings.POLL_INTERVAL_SECONDS)
    poll_cycle_sent()  # the beat's liveness, as /healthz reads it
    return len(ids)


@shared_task(soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT, time_limit=settings.CELERY_TASK_TIME_LIMIT)
def poll_batch(logger_ids, cycle_at):
    """Poll one batch; safe to run twice (history is keyed by inverter and slot)."""
    results = polling.poll_loggers(logger_ids, cycle_at=parse_datetime(cycle_at))
    return sum(r.ok for r in results)


@shared_task(time_limit=120, soft_time_limit=100)
def apply_setting_changes(change_ids):
    """Write recorded setting changes one by one, each read back; safe to run twice."""
    outcomes = remote.setting_changes_apply(change_ids=change_ids)
    return [str(outcome) for outcome, _answer, _old in outcomes]


@shared_task(time_limit=60, soft_time_limit=50)
def read_settings(token):
    """Read an inverter's settings live for an API client, who asks for them by token."""
    remote.settings_read_run(token=token)


# A month of a large fleet (86 M readings at 10,000 inverters) takes minutes to roll up or reindex,
# far beyond the poll tasks' limits; once a day, in one worker slot.
@shared_task(soft_time_limit=4 * 3600, time_limit=4 * 3600 + 300)
def maintain_history():
    """The history's monthly partitions made MONTHS_AHEAD months ahead, those past the retention
    rolled up by the hour and dropped, the ended ones' key indexes compacted; safe to run twice."""
    return (
        partitions.reading_partitions_ensure(),
        partitions.reading_history_expire(),
        partitions.reading_partitions_compact(),
    )


@shared_task(time_limit=60, soft_time_limit=50)
def read_settings_job_target(target_id):
    """The dry run of one inverter of a settings job; safe to run twice."""
    bulk.settings_job_target_read(target_id=target_id)


@shared_task(time_limit=120, soft_time_limit=100)
def write_settings_job_target(target_id):
    """Write one inverter of a running settings job; safe to run twice (the target is claimed)."""
    return bulk.settings_job_target_write(target_id=target_id)
