"""Alarms follow the datalogger: cleared when it is removed or its plant archived, moved with it."""

from alarms.models import Alarm
from devices import services
from devices.models import Datalogger
from plants.services import plant_archive

from .conftest import make_plant


def open_alarm(logger, code="COM"):
    return Alarm.objects.create(
        plant=logger.plant, datalogger=logger, code_id=code, started_at=logger.created_at
    )


def test_removing_a_logger_clears_its_open_alarms_at_the_removal_time(plant):
    logger = Datalogger.objects.create(
        plant=plant, serial_number="2355553510", reach="direct", host="192.0.2.1"
    )
    alarm = open_alarm(logger)
    services.datalogger_remove(logger=logger)
    alarm.refresh_from_db()
    assert alarm.cleared_at == logger.archived_at


def test_moving_a_logger_moves_its_open_alarms_and_leaves_its_past_ones(plant, company):
    other = make_plant(company, name="Grange")
    logger = Datalogger.objects.create(
        plant=plant, serial_number="2355553510", reach="direct", host="192.0.2.1"
    )
    past = open_alarm(logger, "F13")
    Alarm.objects.filter(pk=past.pk).update(cleared_at=logger.created_at)
    current = open_alarm(logger)
    services.datalogger_move(logger=logger, to_plant=other)
    current.refresh_from_db()
    past.refresh_from_db()
    assert current.plant == other and past.plant == plant


def test_archiving_a_plant_clears_its_open_alarms(plant, installer):
    logger = Datalogger.objects.create(
        plant=plant, serial_number="2355553510", reach="direct", host="192.0.2.1"
    )
    alarm = open_alarm(logger)
    plant_archive(plant=plant, by=installer)
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None
