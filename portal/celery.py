"""The Celery app: a worker polls devices and sends e-mails; exactly one beat starts the cycles and
sweeps the alarm e-mail outbox."""

import os

from celery import Celery, bootsteps
from celery.schedules import crontab
from django.conf import settings
from django.db import connection

from core.heartbeat import WORKER_HEARTBEAT_SECONDS, worker_heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class Heartbeat(bootsteps.StartStopStep):
    """Each worker says it is alive in Redis every few seconds, so that /healthz answers from one
    read instead of pinging the workers and waiting out a timeout."""

    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        beat(worker.hostname)
        self.tref = worker.timer.call_repeatedly(WORKER_HEARTBEAT_SECONDS, beat, (worker.hostname,))

    def stop(self, worker):
        if getattr(self, "tref", None):
            self.tref.cancel()


def beat(hostname):
    """One heartbeat, with a database check: a worker that cannot reach the database takes poll
    batches and loses them, so it must not count as healthy."""
    worker_heartbeat(hostname, database_ok=_database_ok())


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any failure means no database for this worker
        return False
    finally:
        connection.close()  # the timer thread's own connection: not kept between beats


app.steps["worker"].add(Heartbeat)


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
        60, sender.signature("alarms.tasks.escalate_unacknowledged"), name="alarm escalation"
    )
    sender.add_periodic_task(
        crontab(hour=7, minute=0), sender.signature("alarms.tasks.send_digests"), name="alarm digests"
    )
    # Every hour of the 1st from 06:00: each report is sent once (claimed), one refused by the mail
    # server goes at the next hour; by then the last day of the month is closed.
    sender.add_periodic_task(
        crontab(minute=0, hour="6-23", day_of_month="1"),
        sender.signature("economics.tasks.send_monthly_reports"),
        name="monthly reports",
    )
    sender.add_periodic_task(
        crontab(minute=10), sender.signature("economics.tasks.plan_grid_charging"), name="grid charging plans"
    )
    sender.add_periodic_task(
        300,
        sender.signature("energy.tasks.refresh_daily_energy"),
        name="daily energy",
        options={"expires": 300},
    )
    sender.add_periodic_task(
        24 * 3600, sender.signature("devices.tasks.maintain_history"), name="history partitions and retention"
    )
    sender.add_periodic_task(
        3600, sender.signature("privacy.tasks.purge_data_exports"), name="expired data copies"
    )
    sender.add_periodic_task(
        3600, sender.signature("energy.tasks.purge_readings_exports"), name="expired readings exports"
    )
    sender.add_periodic_task(
        3600, sender.signature("commissioning.tasks.finish_when_ready"), name="commissioning awaiting data"
    )
    sender.add_periodic_task(3600, sender.signature("integrations.tasks.purge_events"), name="old events")
    sender.add_periodic_task(
        3600, sender.signature("energy.tasks.record_battery_days"), name="battery health"
    )
    sender.add_periodic_task(
        settings.WEBHOOK_DISPATCH_SECONDS,
        sender.signature(
            "integrations.tasks.dispatch_webhooks", options={"expires": settings.WEBHOOK_DISPATCH_SECONDS}
        ),
        name="webhooks",
    )
    # Yesterday's findings from the energy and the history, a few times a day (late rows included).
    sender.add_periodic_task(
        6 * 3600, sender.signature("monitoring.tasks.find_daily_findings"), name="daily findings"
    )
    sender.add_periodic_task(
        settings.FLEET_FIGURES_SECONDS,
        sender.signature("monitoring.tasks.refresh_fleet_figures"),
        name="fleet figures",
        options={"expires": settings.FLEET_FIGURES_SECONDS},
    )
