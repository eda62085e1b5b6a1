"""How alarms react to what the layers below announce (devices.signals, plants.signals): each runs
inside the sender's transaction; e-mails are queued for after its commit."""

from django.dispatch import receiver

from devices.signals import datalogger_moved, datalogger_removed, inverter_replacement_decided, poll_stored
from plants.signals import plant_archived

from .catalogue import INVERTER_REPLACED
from .models import Alarm, Incident
from .rules import rule_alarms_from_poll
from .services import alarms_from_poll
from .tasks import notify_alarm


@receiver(poll_stored)
def open_and_clear_from_poll(sender, *, polled, **kwargs):
    for alarm in [*alarms_from_poll(polled), *rule_alarms_from_poll(polled)]:
        notify_alarm.delay_on_commit(alarm.pk)  # and the outbox sweep, should this task be lost


@receiver(datalogger_moved)
def follow_moved_logger(sender, *, logger, **kwargs):
    """Open alarms move with their logger; cleared ones stay where they happened."""
    Alarm.objects.active().filter(datalogger=logger).update(plant_id=logger.plant_id)


@receiver(datalogger_removed)
def clear_removed_logger(sender, *, logger, **kwargs):
    Alarm.objects.active().filter(datalogger=logger).clear(logger.archived_at)


@receiver(inverter_replacement_decided)
def clear_replacement(sender, *, inverter, by, at, **kwargs):
    Alarm.objects.active().filter(inverter=inverter, code_id=INVERTER_REPLACED).update(
        cleared_at=at, acknowledged_by=by, acknowledged_at=at, status=Incident.RESOLVED, resolved_at=at
    )


@receiver(plant_archived)
def clear_archived_plant(sender, *, plant, at, **kwargs):
    Alarm.objects.active().filter(plant=plant).clear(at)
