"""The events feed (`GET /api/v1/events/`): every change recorded in its own transaction whatever code
made it, each event read exactly once with `?after=` (commits out of order included), each person's
events only, kept EVENT_DAYS days. Real commits (transactional_db): the feed's order is about them."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from alarms.models import Alarm
from alarms.services import alarm_acknowledge
from devices import polling
from devices.models import Inverter, SettingChange
from integrations.models import Event
from integrations.services import events_number
from integrations.tasks import purge_events
from plants.models import Plant, PlantStatus

from .conftest import attach_logger, make_plant
from .factories import InverterFactory
from .test_alarm_detection import F13

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_devices(settings):
    settings.DEVICE_TIMEOUT_SECONDS = 0.5
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01


def feed(user, after="", **params):
    api = APIClient()
    api.force_authenticate(user)
    response = api.get("/api/v1/events/", {"after": after, **params})
    assert response.status_code == 200, response.content
    return response.json()


def read_all(user, after=""):
    events = []
    while True:
        page = feed(user, after)
        events += page["results"]
        after = page["next"]
        if not page["more"]:
            return events, after


def test_a_fault_read_by_a_poll_is_an_alarm_opened_event_then_cleared(installer, plant, simulator, v5_device):
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.pk])
    v5_device.fault_bits = F13
    polling.poll_loggers([logger.pk])
    v5_device.fault_bits = 0
    polling.poll_loggers([logger.pk])
    events, _after = read_all(installer)
    kinds = [(e["kind"], e["data"].get("code")) for e in events if e["kind"].startswith("alarm.")]
    assert kinds == [("alarm.opened", "F13"), ("alarm.cleared", "F13"), ("alarm.resolved", "F13")]
    alarm = Alarm.objects.get(code_id="F13")
    assert events[-1]["data"]["alarm"] == alarm.pk and events[-1]["plant"] == plant.pk


def test_every_kind_is_recorded_by_the_change_itself(installer, plant):
    inverter = InverterFactory(datalogger__plant=plant)
    alarm = Alarm.objects.create(
        plant=plant,
        datalogger=inverter.datalogger,
        inverter=inverter,
        code_id="F13",
        started_at=timezone.now(),
    )
    alarm_acknowledge(alarm=alarm, by=installer)
    Plant.objects.filter(pk=plant.pk).update(status=PlantStatus.ONLINE)
    Plant.objects.filter(pk=plant.pk).update(status=PlantStatus.OFFLINE)
    Plant.objects.filter(pk=plant.pk).update(status=PlantStatus.ONLINE)
    Plant.objects.filter(pk=plant.pk).update(commissioning_completed_at=timezone.now())
    change = SettingChange.objects.create(
        inverter=inverter, plant=plant, by=installer, key="working_mode", old_value=0, new_value=2
    )
    change.finish(SettingChange.Outcome.CONFIRMED, old_value=0)
    Inverter.objects.create(datalogger=inverter.datalogger, serial_number="AU0000NEW", replaces=inverter)
    events, _after = read_all(installer)
    assert [e["kind"] for e in events] == [
        "alarm.opened",
        "alarm.acknowledged",
        "plant.online",
        "plant.offline",
        "plant.online",
        "commissioning.completed",
        "setting_change.executed",
        "inverter.replaced",
    ]
    assert events[6]["data"]["outcome"] == "confirmed" and events[6]["data"]["new_value"] == 2
    assert events[7]["data"]["replaced_serial_number"] == inverter.serial_number


def test_an_event_committed_after_a_later_one_is_still_read_after_it(installer, plant):
    """A transaction that wrote its event first but commits last: a reader already past the later
    event still gets the earlier one on its next read (ids are taken before commit; numbers after)."""
    logger = InverterFactory(datalogger__plant=plant).datalogger
    wrote, commit = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            Alarm.objects.create(plant=plant, datalogger=logger, code_id="COM", started_at=timezone.now())
            wrote.set()
            commit.wait(10)
        connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    wrote.wait(10)
    Alarm.objects.create(
        plant=plant, datalogger=logger, code_id="INV", started_at=timezone.now(), cleared_at=timezone.now()
    )
    first = feed(installer)
    assert [e["data"]["code"] for e in first["results"]] == ["INV"]
    commit.set()
    thread.join()
    assert [e["data"]["code"] for e in feed(installer, first["next"])["results"]] == ["COM"]


def test_a_burst_of_1000_events_read_with_after_gives_each_exactly_once(installer, plant):
    logger = InverterFactory(datalogger__plant=plant).datalogger
    done = threading.Event()

    def writer(n, delay):
        for _ in range(250):
            with transaction.atomic():
                now = timezone.now()
                Alarm.objects.create(
                    plant=plant, datalogger=logger, code_id="COM", started_at=now, cleared_at=now
                )
                time.sleep(delay * (n % 2))  # some commit after others that wrote later
        connection.close()

    def numberer():  # another reader or the webhooks' dispatcher, numbering at the same time
        while not done.is_set():
            events_number()
        connection.close()

    writers = [threading.Thread(target=writer, args=(n, 0.002)) for n in range(4)]
    for thread in [*writers, threading.Thread(target=numberer)]:
        thread.start()
    seen, after = [], ""
    while True:
        finished = done.is_set()
        page = feed(installer, after, limit=37)
        seen += [e["id"] for e in page["results"]]
        after = page["next"]
        if finished and not page["more"]:
            break
        if all(not t.is_alive() for t in writers):
            done.set()
    assert len(seen) == len(set(seen)) == 1000
    assert sorted(seen) == sorted(Event.objects.values_list("number", flat=True))


def test_a_customer_reads_their_plants_events_of_the_kinds_their_pages_show(
    installer, customer, granted_plant, company
):
    inverter = InverterFactory(datalogger__plant=granted_plant)
    other = InverterFactory(datalogger__plant=make_plant(company, name="Voisin"))
    for device in (inverter, other):
        alarm = Alarm.objects.create(
            plant=device.datalogger.plant, datalogger=device.datalogger, inverter=device, code_id="F13",
            started_at=timezone.now(),
        )  # fmt: skip
        alarm_acknowledge(alarm=alarm, by=installer)
    events, _after = read_all(customer)
    assert [(e["kind"], e["plant"]) for e in events] == [("alarm.opened", granted_plant.pk)]
    assert len(read_all(installer)[0]) == 4


def test_a_new_owner_reads_nothing_from_before_the_hand_over(installer, customer, granted_plant):
    inverter = InverterFactory(datalogger__plant=granted_plant)
    Alarm.objects.create(
        plant=granted_plant, datalogger=inverter.datalogger, inverter=inverter, code_id="F13",
        started_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    Plant.objects.filter(pk=granted_plant.pk).update(customer_history_since=timezone.now())
    assert read_all(customer)[0] == []


@pytest.mark.parametrize(
    "params",
    [{"after": "-1"}, {"after": "1.5"}, {"after": "9" * 20}, {"after": "١٢"}, {"limit": "0"},
     {"limit": "100000"}, {"kind": "alarm.exploded"}],
)  # fmt: skip
def test_a_bad_cursor_limit_or_kind_is_a_400_with_its_reason(installer, params):
    api = APIClient()
    api.force_authenticate(installer)
    response = api.get("/api/v1/events/", params)
    assert response.status_code == 400 and set(response.json()) <= {"after", "limit", "kind"}


def test_events_are_kept_event_days_then_purged(installer, plant, settings):
    InverterFactory(datalogger__plant=plant)
    Plant.objects.filter(pk=plant.pk).update(commissioning_completed_at=timezone.now())
    Event.objects.update(recorded_at=timezone.now() - timedelta(days=settings.EVENT_DAYS, minutes=1))
    Plant.objects.filter(pk=plant.pk).update(status=PlantStatus.ONLINE)
    purge_events()
    assert list(Event.objects.values_list("kind", flat=True)) == ["plant.online"]
