"""The Celery app: a worker polls devices and sends e-mails; exactly one beat starts the cycles and
sweeps the alarm e-mail outbox."""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_polling(sender, **kwargs):
    sender.add_periodic_task(
        settings.POLL_INTERVAL_SECONDS,
        sender.signature("devices.tasks.start_poll_cycle"),
        name="poll cycle",
        # A cycle that could not start in time is skipped: the next one comes soon.
        options={"expires": settings.POLL_INTERVAL_SECONDS},
    )
    sender.add_periodic_task(
        60, sender.signature("alarms.tasks.send_pending_notifications"), name="alarm e-mail outbox"
    )
    sender.add_periodic_task(
        300,
        sender.signature("energy.tasks.refresh_daily_energy"),
        name="daily energy",
        options={"expires": 300},
    )
