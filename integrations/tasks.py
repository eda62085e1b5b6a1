from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services
from .models import Event, WebhookDelivery


@shared_task(ignore_result=True)
def purge_events():
    """Events and finished deliveries older than EVENT_DAYS days go (the feed's promise: kept that long)."""
    before = timezone.now() - timedelta(days=settings.EVENT_DAYS)
    Event.objects.filter(recorded_at__lt=before).delete()
    WebhookDelivery.objects.filter(created_at__lt=before, next_attempt_at__isnull=True).delete()


@shared_task(ignore_result=True)
def dispatch_webhooks():
    """Queue the new events for each webhook and send what is due (each delivery in a task of its own,
    on any worker)."""
    services.webhooks_queue()
    for delivery_id in services.webhook_deliveries_due():
        deliver_webhook.delay(delivery_id)


@shared_task(ignore_result=True)
def deliver_webhook(delivery_id):
    services.webhook_delivery_attempt(delivery_id=delivery_id)
