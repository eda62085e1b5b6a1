from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import Event


@shared_task(ignore_result=True)
def purge_events():
    """Events older than EVENT_DAYS days go (the feed's promise: kept that long)."""
    Event.objects.filter(recorded_at__lt=timezone.now() - timedelta(days=settings.EVENT_DAYS)).delete()
