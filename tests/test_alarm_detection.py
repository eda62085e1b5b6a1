"""From the inverter's F/W bits, through real polls of the simulator, to alarms in PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from alarms import catalogue
from alarms.models import Alarm, AlarmCode, Incident
from alarms.services import alarms_from_poll
from devices import polling
from devices.models import Datalogger, DeviceStatus, Inverter, PollOutcome
from devices.reading import PollResult
from devices.registermap import alarm_bit
from devices.simulator import Behaviour

from .conftest import attach_logger, make_plant
from .factories import InverterFactory
from .test_polling import place_at_solar_hour

F13 = 1 << 13


@pytest.fixture(autouse=True)
def fast_devices(settings):
    settings.DEVICE_TIMEOUT_SECONDS = 0.5
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01


@pytest.fixture
def logger(simulator, plant, v5_device):
    return attach_logger(plant, v5_device, simulator)


def poll(logger):
    (result,) = polling.poll_loggers([logger.id])
    return result


def test_fault_f13_opens_one_alarm_keeps_it_and_clears_it_at_the_right_time(logger, v5_device):
    poll(logger)
    assert not Alarm.objects.exists()
    v5_device.fault_bits = F13
    first = poll(logger)
    alarm = Alarm.objects.get()
    assert alarm.code_id == "F13" and alarm.cleared_at is None and alarm.started_at == first.at
    assert alarm.detail is None  # a code the guide names says no raw word
    for _ in range(5):
        poll(logger)
    assert Alarm.objects.count() == 1
    v5_device.fault_bits = 0
    cleared = poll(logger)
    alarm.refresh_from_db()
    assert alarm.cleared_at == cleared.at


def test_two_simultaneous_warnings_open_two_alarms(logger, v5_device):
    v5_device.warning_bits = (1 << 0) | (1 << 28)
    poll(logger)
    assert sorted(Alarm.objects.values_list("code_id", flat=True)) == ["W00", "W28"]


def test_codes_that_return_within_the_quiet_period_reopen_their_alarms(logger, v5_device):
    v5_device.warning_bits = 1 << 12 | 1 << 28
    poll(logger)
    v5_device.warning_bits = 0
    poll(logger)
    v5_device.warning_bits = 1 << 12 | 1 << 28
    poll(logger)
    alarms = Alarm.objects.order_by("code_id")
    assert [(a.code_id, a.cleared_at, a.times_raised) for a in alarms] == [("W12", None, 2), ("W28", None, 2)]


def _f13_cleared(inverter, *, at, status=Incident.NEW):
    return Alarm.objects.create(
        plant=inverter.datalogger.plant, datalogger=inverter.datalogger, inverter=inverter, code_id="F13",
        started_at=at - timedelta(hours=1), cleared_at=at, status=status,
    )  # fmt: skip


def _f13_again(inverter, at, *, polls=1):
    logger = Datalogger.objects.select_related("plant").get(pk=inverter.datalogger_id)
    result = PollResult(
        logger.pk, outcome=PollOutcome.OK, values={"fault_bits": F13, "warning_bits": 0}, at=at
    )
    return alarms_from_poll([(logger, inverter, result)] * polls)


@pytest.mark.parametrize(
    ("status", "reopened_as"),
    [
        (Incident.RESOLVED, Incident.NEW),
        (Incident.IN_PROGRESS, Incident.IN_PROGRESS),
        (Incident.IGNORED, Incident.IGNORED),
    ],
)
def test_a_code_back_at_the_quiet_periods_end_reopens_its_alarm_as_people_left_it(plant, status, reopened_as):
    """Back exactly ALARM_QUIET_MINUTES (60) after it cleared: the same incident. Resolved, it is new
    again; in progress or ignored, it stays so."""
    inverter = InverterFactory(datalogger__plant=plant)
    cleared = timezone.now() - timedelta(hours=1)
    alarm = _f13_cleared(inverter, at=cleared, status=status)
    other = Alarm.objects.create(
        plant=plant, datalogger=inverter.datalogger, inverter=inverter, code_id="W12",
        started_at=cleared - timedelta(hours=2), cleared_at=cleared,
    )  # fmt: skip
    # Two of the stick's polls stored together: reopened once.
    assert _f13_again(inverter, cleared + timedelta(minutes=60), polls=2) == []
    alarm.refresh_from_db()
    assert (alarm.cleared_at, alarm.times_raised, alarm.status) == (None, 2, reopened_as)
    other.refresh_from_db()
    assert (other.cleared_at, other.times_raised) == (cleared, 1)  # a code that did not come back


def test_a_code_back_on_a_stick_moved_to_another_plant_opens_that_plants_alarm(plant, company):
    """A hand-over: the stick now reports for another plant; its old plant's alarm stays as it was."""
    inverter = InverterFactory(datalogger__plant=plant)
    cleared = timezone.now() - timedelta(minutes=5)
    old = _f13_cleared(inverter, at=cleared)
    other = make_plant(company, name="Nouvelle")
    Datalogger.objects.filter(pk=inverter.datalogger_id).update(plant=other)
    (opened,) = _f13_again(inverter, cleared + timedelta(minutes=1))
    old.refresh_from_db()
    assert opened.plant == other and (old.cleared_at, old.times_raised) == (cleared, 1)


def test_an_alarm_another_worker_opened_first_leaves_the_rest_of_the_batch_to_open(plant):
    """The same stick twice in one batch (two of its polls stored together): the second F13 is
    refused by the database, the next stick's still opens."""
    first, second = InverterFactory.create_batch(2, datalogger__plant=plant, status=DeviceStatus.ONLINE)
    loggers = {lg.pk: lg for lg in Datalogger.objects.select_related("plant")}
    f13 = PollResult(
        first.datalogger_id, outcome=PollOutcome.OK, values={"fault_bits": F13, "warning_bits": 0}
    )
    also = PollResult(
        second.datalogger_id, outcome=PollOutcome.OK, values={"fault_bits": F13, "warning_bits": 0}
    )
    polled = [(loggers[first.datalogger_id], first, f13)] * 2 + [
        (loggers[second.datalogger_id], second, also)
    ]
    assert len(alarms_from_poll(polled)) == 2
    assert sorted(Alarm.objects.values_list("inverter_id", flat=True)) == [first.pk, second.pk]


def test_a_logger_killed_mid_poll_raises_communication_lost_and_keeps_its_alarms(logger, v5_device, settings):
    settings.DEVICE_OFFLINE_AFTER_MISSED = 1
    v5_device.fault_bits = F13
    poll(logger)
    v5_device.behaviour = Behaviour.DROP
    poll(logger)
    com = Alarm.objects.get(code_id="COM")
    assert com.inverter is None and com.cleared_at is None
    assert Alarm.objects.get(code_id="F13").cleared_at is None
    v5_device.behaviour = Behaviour.NORMAL
    poll(logger)
    com.refresh_from_db()
    assert com.cleared_at is not None
    assert Alarm.objects.get(code_id="F13").cleared_at is None


def test_processing_the_same_reading_twice_changes_nothing(logger, v5_device):
    v5_device.fault_bits = F13
    v5_device.warning_bits = 1 << 4
    result = poll(logger)
    before = list(Alarm.objects.order_by("pk").values())
    logger = Datalogger.objects.get(pk=logger.pk)
    alarms_from_poll([(logger, logger.inverters.get(), result)])
    assert list(Alarm.objects.order_by("pk").values()) == before


def test_the_database_refuses_a_second_open_alarm(logger, v5_device):
    v5_device.fault_bits = F13
    poll(logger)
    alarm = Alarm.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Alarm.objects.create(
            plant=alarm.plant,
            datalogger=alarm.datalogger,
            inverter=alarm.inverter,
            code_id="F13",
            started_at=alarm.started_at,
        )


def test_an_asleep_inverter_raises_and_clears_nothing(logger, v5_device):
    v5_device.fault_bits = F13
    poll(logger)
    v5_device.behaviour = Behaviour.ASLEEP
    poll(logger)
    assert Alarm.objects.get().cleared_at is None
    assert not Alarm.objects.filter(code_id="COM").exists()


def test_w04_pv_lost_opens_nothing_at_night_but_does_by_day(logger, v5_device, plant):
    place_at_solar_hour(plant, 23)
    v5_device.raise_codes("W04")
    poll(logger)
    assert not Alarm.objects.exists()
    place_at_solar_hour(plant, 12)
    poll(logger)
    assert list(Alarm.objects.values_list("code_id", flat=True)) == ["W04"]


def test_the_bit_to_code_mapping_comes_from_the_catalogue():
    assert catalogue.active_codes({"warning_bits": 1 << 29, "fault_bits": (1 << 31) | (1 << 11)}) == {
        "W29",
        "F11",
        "F32",
    }
    assert catalogue.active_codes({"warning_bits": None, "fault_bits": None}) == set()


def test_w29_is_shown_as_the_guides_misprinted_w26(db):
    assert (
        AlarmCode.objects.get(code="W29").display_code == "W29 (imprimé « W26 » dans le guide, non confirmé)"
    )
    assert AlarmCode.objects.get(code="W26").display_code == "W26"


def test_a_fault_bit_the_guide_does_not_name_still_opens_a_fault_with_its_raw_word(logger, v5_device):
    assert 3 not in catalogue.GUIDE_FAULT_BITS  # the guide has no F03
    v5_device.fault_bits = 1 << 3
    poll(logger)
    alarm = Alarm.objects.select_related("code").get()
    assert alarm.code_id == "FB03" and alarm.code.kind == "fault" and alarm.severity == 1
    assert alarm.code.meaning_fr == "Défaut non répertorié (bit 3)"
    assert "0x00000008" in str(alarm.detail)


@pytest.mark.parametrize("bit", [21, 30])
def test_high_fault_bits_and_warning_bits_30_31_open_alarms(logger, v5_device, bit):
    v5_device.fault_bits = 1 << bit
    v5_device.warning_bits = (1 << 30) | (1 << 31)
    poll(logger)
    assert sorted(Alarm.objects.values_list("code_id", flat=True)) == [f"FB{bit}", "WB30", "WB31"]


@pytest.mark.parametrize(("status", "code"), [(7, "S07"), (13, "S13")])
def test_a_fault_status_with_no_fault_bit_opens_an_alarm(logger, v5_device, status, code):
    v5_device.overrides["system_status"] = status
    poll(logger)
    alarm = Alarm.objects.select_related("code").get()
    assert alarm.code_id == code and alarm.code.kind == "fault"
    v5_device.overrides.pop("system_status")
    poll(logger)
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None


def test_a_fault_code_is_not_doubled_by_the_fault_status(logger, v5_device):
    v5_device.fault_bits = F13  # the simulator's status is then 7 (Fault)
    poll(logger)
    assert list(Alarm.objects.values_list("code_id", flat=True)) == ["F13"]


@pytest.mark.parametrize(("pv1_w", "pv2_w", "opened"), [(0, 0, []), (350, 0, ["W04"]), (0, 350, ["W04"])])
def test_w04_in_the_last_hour_of_daylight_waits_only_when_the_pv_is_gone(plant, pv1_w, pv2_w, opened):
    """Half an hour before sunset: "PV lost" with no PV left is the evening, not a fault; with PV
    still coming in, it is one."""
    place_at_solar_hour(plant, 17.5)
    inverter = InverterFactory(datalogger__plant=plant, status=DeviceStatus.ONLINE)
    logger = Datalogger.objects.select_related("plant").get(pk=inverter.datalogger_id)
    values = {"warning_bits": 1 << alarm_bit("W04"), "fault_bits": 0, "pv1_power": pv1_w, "pv2_power": pv2_w}
    alarms_from_poll([(logger, inverter, PollResult(logger.id, outcome=PollOutcome.OK, values=values))])
    assert list(Alarm.objects.values_list("code_id", flat=True)) == opened


def test_a_code_gone_from_one_inverter_leaves_another_inverters_alarm_open(plant):
    """Two sticks polled in one batch, both with F13 open: F13 gone from the first clears its alarm only."""
    first, second = InverterFactory.create_batch(2, datalogger__plant=plant, status=DeviceStatus.ONLINE)
    for inverter in (first, second):
        Alarm.objects.create(
            plant=plant,
            datalogger=inverter.datalogger,
            inverter=inverter,
            code_id="F13",
            started_at=timezone.now(),
        )
    loggers = {lg.pk: lg for lg in Datalogger.objects.select_related("plant")}
    f13 = {"fault_bits": 1 << alarm_bit("F13"), "warning_bits": 0}
    gone = {"fault_bits": 0, "warning_bits": 0}
    polled = [
        (
            loggers[inv.datalogger_id],
            inv,
            PollResult(inv.datalogger_id, outcome=PollOutcome.OK, values=values),
        )
        for inv, values in ((first, gone), (second, f13))
    ]
    alarms_from_poll(polled)
    still_open = Alarm.objects.filter(cleared_at__isnull=True).values_list("inverter_id", flat=True)
    assert list(still_open) == [second.pk]


def test_a_replacement_opens_swp_once_naming_both_inverters(plant):
    old = InverterFactory(datalogger__plant=plant, serial_number="OLD0000001", ended_at=timezone.now())
    new = InverterFactory(datalogger=old.datalogger, serial_number="NEW0000001", replaces=old)
    logger = Datalogger.objects.select_related("plant").get(pk=old.datalogger_id)
    poll = PollResult(logger.pk, outcome=PollOutcome.OK, values={"fault_bits": 0, "warning_bits": 0})
    (opened,) = alarms_from_poll([(logger, new, poll)])
    alarm = Alarm.objects.get(code_id="SWP")
    assert alarm == opened and (alarm.plant, alarm.datalogger, alarm.inverter) == (plant, logger, new)
    assert str(alarm.detail) == "Onduleur OLD0000001 remplacé par NEW0000001."
    assert alarms_from_poll([(logger, new, poll)]) == []  # open already
    assert Alarm.objects.get(code_id="SWP").cleared_at is None  # no fault bit up clears it
    Inverter.objects.filter(pk=new.pk).update(replacement_confirmed_at=timezone.now())
    new.refresh_from_db()
    alarms_from_poll([(logger, new, poll)])
    assert Alarm.objects.count() == 1
