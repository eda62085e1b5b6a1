from celery import shared_task

from . import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_alarm(alarm_id):
    return services.alarm_notify(alarm_id)
