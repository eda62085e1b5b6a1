"""Real polls of a simulated inverter on a clock the test moves (time-machine), each followed by the
beat's minute tasks (the alarm outbox, escalation): what the alarm tests drive."""

from datetime import UTC, datetime, timedelta

import time_machine

from alarms import tasks
from devices import polling

from .conftest import attach_logger

MORNING = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)  # 10:00 in Lyon: daylight, no night rule


class ClockedPolls:
    """`polls(*codes, after=…, **values)`: move the clock by `after`, raise `codes` and force `values`
    on the simulated inverter, poll its logger, run the minute tasks."""

    def __init__(self, plant, device, simulator, capture):
        self.logger = attach_logger(plant, device, simulator)
        self.device, self.capture = device, capture
        self.travel = time_machine.travel(MORNING, tick=False)
        self.clock = self.travel.start()

    def __call__(self, *codes, after=timedelta(0), **values):
        self.clock.shift(after)
        self.device.raise_codes(*codes)
        self.device.overrides = values
        with self.capture(execute=True):
            polling.poll_loggers([self.logger.id])
        tasks.send_pending_notifications.delay()
        tasks.escalate_unacknowledged.delay()

    def stop(self):
        self.travel.stop()
