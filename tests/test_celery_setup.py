from django.conf import settings

from devices.tasks import poll_batch
from portal.celery import app


def test_beat_starts_a_poll_cycle_every_interval():
    app.finalize()
    (entry,) = [e for e in app.conf.beat_schedule.values() if e["task"] == "devices.tasks.start_poll_cycle"]
    assert entry["schedule"] == settings.POLL_INTERVAL_SECONDS


def test_a_batch_task_ends_before_the_next_cycle_and_is_acknowledged_late():
    assert poll_batch.time_limit < settings.POLL_INTERVAL_SECONDS
    assert poll_batch.soft_time_limit < poll_batch.time_limit
    assert app.conf.task_acks_late and app.conf.worker_prefetch_multiplier == 1
