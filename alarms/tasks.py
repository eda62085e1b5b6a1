"""Thin Celery tasks: an alarm's e-mail, and the outbox sweep that sends what a lost task did not."""

from celery import shared_task

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def notify_alarm(alarm_id):
    """Send one alarm's e-mail; safe to run twice (the alarm is claimed by a conditional update)."""
    return services.alarm_notify(alarm_id)


@shared_task
def send_pending_notifications():
    """The outbox: every alarm whose e-mail did not go out (a worker killed after the poll's commit,
    a mail server down past the retries) gets a task again."""
    ids = services.alarms_pending_notification()
    for alarm_id in ids:
        notify_alarm.delay(alarm_id)
    return len(ids)


@shared_task
def escalate_unacknowledged():
    """Faults nobody acknowledged in time go to each company's escalation contact; safe to run twice."""
    return len(services.alarms_escalate())


@shared_task
def send_digests():
    """The daily digest to each installer who asked for it."""
    return services.alarm_digests()
