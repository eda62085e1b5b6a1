"""Polling batches of loggers over real sockets, storing readings and statuses in PostgreSQL."""

import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devices import polling, reading, storing, tasks
from devices.models import Datalogger, DeviceStatus, Reading
from devices.simulator import Behaviour

from .conftest import attach_logger, awake_inverter, make_plant


@pytest.fixture(autouse=True)
def fast_devices(settings):
    settings.DEVICE_TIMEOUT_SECONDS = 0.5
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01


def add_devices(simulator, plant, behaviours):
    loggers = {}
    for i, behaviour in enumerate(behaviours):
        device = simulator.add_v5(
            awake_inverter(2400000000 + i + 100 * len(simulator.v5_devices), f"AUP{i}", behaviour=behaviour)
        )
        loggers[behaviour] = (attach_logger(plant, device, simulator), device)
    return loggers


def test_a_batch_stores_the_good_loggers_and_says_why_the_others_failed(simulator, plant, tcp_device):
    loggers = add_devices(
        simulator,
        plant,
        [Behaviour.NORMAL, Behaviour.DROP, Behaviour.GARBAGE, Behaviour.EXCEPTION, Behaviour.TIMEOUT],
    )
    tcp_logger = attach_logger(plant, tcp_device, simulator, protocol="modbus_tcp")
    refused = Datalogger.objects.create(
        plant=plant, serial_number="2399999999", reach="direct", host="127.0.0.1", port=1
    )
    ids = [lg.id for lg, _ in loggers.values()] + [tcp_logger.id, refused.id]
    Datalogger.objects.filter(id__in=ids).update(last_seen_at=timezone.now())  # known loggers: reasons said
    polling.poll_loggers(ids)

    good = Datalogger.objects.get(pk=loggers[Behaviour.NORMAL][0].pk)
    assert good.status == DeviceStatus.ONLINE and not good.last_error
    assert good.inverters.get().latest["pv_power"] >= 0
    assert Datalogger.objects.get(pk=tcp_logger.pk).status == DeviceStatus.ONLINE
    assert Reading.objects.count() == 2
    errors = {b: str(Datalogger.objects.get(pk=lg.pk).last_error) for b, (lg, _) in loggers.items()}
    assert "coupé la connexion" in errors[Behaviour.DROP]
    assert "pas une trame valide" in errors[Behaviour.GARBAGE]
    assert "exception Modbus 4" in errors[Behaviour.EXCEPTION]
    assert "réponse valable à temps" in errors[Behaviour.TIMEOUT]
    assert "refusé la connexion" in str(Datalogger.objects.get(pk=refused.pk).last_error)
    for behaviour in (Behaviour.DROP, Behaviour.TIMEOUT):
        # One miss is not yet "offline" (three in a row are, by default).
        assert Datalogger.objects.get(pk=loggers[behaviour][0].pk).status == DeviceStatus.NEVER_SEEN


def test_a_logger_goes_offline_after_the_configured_missed_polls(simulator, plant, v5_device, settings):
    settings.DEVICE_OFFLINE_AFTER_MISSED = 2
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])
    v5_device.behaviour = Behaviour.DROP
    polling.poll_loggers([logger.id])
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.ONLINE and logger.missed_polls == 1
    polling.poll_loggers([logger.id])
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.OFFLINE
    assert logger.inverters.get().status == DeviceStatus.OFFLINE
    v5_device.behaviour = Behaviour.NORMAL
    polling.poll_loggers([logger.id])
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.ONLINE and logger.missed_polls == 0


def place_at_solar_hour(plant, hour):
    """Move the plant to the equator at the longitude where it is now `hour` o'clock solar time, so
    that day and night tests need no fake clock."""
    now = timezone.now()
    utc_hours = now.hour + now.minute / 60
    plant.latitude, plant.longitude = 0, round((hour - utc_hours + 12) % 24 * 15 - 180, 4)
    plant.save()


def test_05_00_at_night_is_asleep_and_opens_nothing(simulator, plant, v5_device, settings):
    settings.DEVICE_OFFLINE_AFTER_MISSED = 1
    place_at_solar_hour(plant, 0)
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])
    v5_device.behaviour = Behaviour.ASLEEP
    next_slot = timezone.now() + timedelta(minutes=5)
    polling.poll_loggers([logger.id], cycle_at=next_slot)
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.ASLEEP and not logger.last_error
    assert logger.inverters.get().status == DeviceStatus.ASLEEP
    assert not logger.alarms.exists()
    # The asleep slot is known (no PV), not a gap; nothing else is made up for it.
    asleep = Reading.objects.get(slot=polling.history_slot(next_slot))
    assert asleep.pv_power == 0 and asleep.load_power is None and asleep.pv_energy_today is None


def test_05_00_at_noon_is_an_inverter_not_answering_its_stick_with_its_own_alarm(
    simulator, plant, v5_device, settings
):
    settings.DEVICE_OFFLINE_AFTER_MISSED = 2
    place_at_solar_hour(plant, 12)
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])
    v5_device.behaviour = Behaviour.UNPLUGGED
    polling.poll_loggers([logger.id])
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.INVERTER_SILENT
    assert "câble RS485" in str(logger.last_error) and not logger.alarms.exists()
    polling.poll_loggers([logger.id])
    assert list(logger.alarms.values_list("code_id", flat=True)) == ["INV"]  # not "COM": the stick answers
    v5_device.behaviour = Behaviour.NORMAL
    polling.poll_loggers([logger.id])
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.ONLINE and not logger.alarms.filter(cleared_at__isnull=True).exists()


def test_a_refused_identity_block_still_knows_the_inverter_by_the_serial_every_poll_reads(
    simulator, plant, v5_device
):
    v5_device.behaviour = Behaviour.NO_IDENTITY  # the live block 3137–3260 still holds 3228–3238
    logger = attach_logger(plant, v5_device, simulator)
    polling.datalogger_test_connection(logger)
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.ONLINE and logger.inverters.get().serial_number == "AU7700001"
    assert "identité de l'onduleur n'a pas pu être lue" in str(logger.last_error)  # model, firmware


def test_live_values_are_stored_when_the_identity_block_is_refused(simulator, plant, v5_device):
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])  # identified once
    v5_device.behaviour = Behaviour.NO_IDENTITY
    polling.poll_loggers([logger.id], force_info=True)
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.ONLINE and logger.missed_polls == 0
    assert "identité de l'onduleur n'a pas pu être lue" in str(logger.last_error)
    assert Reading.objects.filter(inverter__datalogger=logger).exists()
    assert not logger.alarms.exists()


def test_a_stick_whose_inverter_gives_no_identity_is_not_online(simulator, plant, v5_device):
    v5_device.behaviour = Behaviour.NO_IDENTITY
    v5_device.overrides["serial_number"] = ""  # nor a serial inside the live block: nobody to store under
    logger = attach_logger(plant, v5_device, simulator)
    polling.datalogger_test_connection(logger)
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.NO_IDENTITY and not logger.inverters.exists()
    assert "identité" in str(logger.last_error)


def test_the_identity_is_read_on_its_own_schedule_not_every_poll(simulator, plant, v5_device):
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])
    (result,) = polling.poll_loggers([logger.id])
    assert not result.identity_asked


def test_a_real_inverters_layout_is_identified_and_its_readings_stored(simulator, plant, v5_device):
    """Serial in input 3228–3238 and grid power negative (raw) while importing, as a real BluE-S."""
    simulator.thread.call(
        v5_device.overrides.update,
        {"serial_number": "KS6K24010001", "grid_power_l1": 1500, "grid_power_l2": 0, "grid_power_l3": 0},
    )
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])
    inverter = logger.inverters.get()
    assert inverter.serial_number == "KS6K24010001" and inverter.rated_power_w == 6000
    assert inverter.latest["grid_power"] == 1500  # import, positive
    assert Reading.objects.get(inverter=inverter).grid_power == 1500


def test_an_out_of_range_value_is_discarded_not_stored(simulator, plant, v5_device):
    simulator.thread.call(v5_device.overrides.update, {"battery_soc": 250.0})
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])
    reading = Reading.objects.get(inverter__datalogger=logger)
    assert reading.battery_soc is None and reading.pv_power is not None


def test_running_the_same_poll_task_twice_stores_the_rows_once(simulator, plant, v5_device, tcp_device):
    ids = [
        attach_logger(plant, v5_device, simulator).id,
        attach_logger(plant, tcp_device, simulator, protocol="modbus_tcp").id,
    ]
    cycle_at = timezone.now().isoformat()
    tasks.poll_batch.apply(args=(ids, cycle_at))
    tasks.poll_batch.apply(args=(ids, cycle_at))
    assert Reading.objects.count() == 2
    assert Reading.objects.values("inverter").distinct().count() == 2


def test_a_cycle_splits_the_fleet_into_batches_and_polls_all(simulator, company, settings):
    settings.POLL_BATCH_SIZE = 2
    plant = make_plant(company)
    add_devices(simulator, plant, [Behaviour.NORMAL] * 1)
    extra = [simulator.add_v5(awake_inverter(2410000000 + i, f"AUX{i}")) for i in range(4)]
    for device in extra:
        attach_logger(plant, device, simulator)
    assert tasks.start_poll_cycle.apply().get() == 1 + len(extra)
    assert Datalogger.objects.filter(status=DeviceStatus.ONLINE).count() == 1 + len(extra)


def test_the_history_slot_is_five_minutes():
    moment = datetime(2026, 6, 1, 12, 8, 41, tzinfo=UTC)
    assert polling.history_slot(moment) == datetime(2026, 6, 1, 12, 5, tzinfo=UTC)


def test_a_stick_read_by_another_process_is_skipped_not_missed(simulator, plant, v5_device, settings):
    logger = attach_logger(plant, v5_device, simulator)
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.set(reading.LOCK_KEY.format(logger.serial_number), 1, px=10_000)
    try:
        (result,) = polling.poll_loggers([logger.id])
    finally:
        client.delete(reading.LOCK_KEY.format(logger.serial_number))
    assert result.outcome == "busy"
    logger.refresh_from_db()
    assert logger.missed_polls == 0 and logger.status == DeviceStatus.NEVER_SEEN
    polling.poll_loggers([logger.id])
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.ONLINE


def test_a_never_seen_address_gets_one_neutral_answer_whatever_the_port_does(simulator, plant, settings):
    """Closed, silent and garbage-speaking ports read alike: no mapping of the portal's network."""
    settings.DEVICE_TIMEOUT_SECONDS = 0.3
    settings.DEVICE_RETRIES = 0
    silent = simulator.add_v5(awake_inverter(2420000001, "AUS", behaviour=Behaviour.TIMEOUT))
    loggers = [
        Datalogger.objects.create(
            plant=plant, serial_number="2420000000", reach="direct", host="127.0.0.1", port=1
        ),
        attach_logger(plant, silent, simulator),
    ]
    polling.poll_loggers([lg.id for lg in loggers])
    errors = {str(Datalogger.objects.get(pk=lg.pk).last_error) for lg in loggers}
    assert len(errors) == 1 and "Aucun enregistreur n'a répondu" in errors.pop()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])  # a name resolved, an address as is
def test_an_address_outside_the_allowed_ranges_is_refused_before_connecting(simulator, plant, settings, host):
    settings.DATALOGGER_ALLOWED_NETWORKS = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    logger = Datalogger.objects.create(
        plant=plant, serial_number="2420000002", reach="direct", host=host, port=port
    )
    (result,) = polling.poll_loggers([logger.id])
    assert "plage privée ou réservée" in str(result.error)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody ever connected
    listener.close()


def test_a_slot_already_stored_is_not_inserted_again(simulator, plant, v5_device):
    """Polls come every minute, history rows every 5 minutes: the later polls of a slot send no
    insert at all (no conflicting insert to throw away), and the first poll of the next slot does."""
    logger = attach_logger(plant, v5_device, simulator)
    slot = polling.history_slot(timezone.now())
    polling.poll_loggers([logger.id], cycle_at=slot)

    def inserts(cycle_at):
        with CaptureQueriesContext(connection) as queries:
            polling.poll_loggers([logger.id], cycle_at=cycle_at)
        return [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "devices_reading"')]

    assert inserts(slot + timedelta(minutes=1)) == []
    assert len(inserts(slot + timedelta(minutes=5))) == 1
    assert Reading.objects.filter(inverter__datalogger=logger).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_storing_the_same_slot_at_once_insert_one_row(simulator, plant, v5_device):
    """The history has no unique index: the slot's claim on the inverter keeps one row per slot even
    when two workers store the same poll at the same moment (the second waits for the first, then
    finds the slot taken), although both loaded the inverter before either stored."""
    logger = attach_logger(plant, v5_device, simulator)
    slot = polling.history_slot(timezone.now())
    results = polling.poll_loggers([logger.id], cycle_at=slot - timedelta(minutes=5))
    loaded = [
        list(
            Datalogger.objects.filter(pk=logger.pk)
            .select_related("plant")
            .prefetch_related("inverters__live")
        )
        for _ in range(2)
    ]
    first_stored, release = threading.Event(), threading.Event()

    def store(loggers, hold):
        try:
            with transaction.atomic():
                storing.store_results(loggers, results, slot=slot)
                if hold:
                    first_stored.set()
                    release.wait(20)
        finally:
            connection.close()

    first = threading.Thread(target=store, args=(loaded[0], True))
    second = threading.Thread(target=store, args=(loaded[1], False))
    first.start()
    assert first_stored.wait(20)
    second.start()
    deadline = time.monotonic() + 20
    while not _waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    first.join(20)
    second.join(20)
    assert Reading.objects.filter(inverter__datalogger=logger, slot=slot).count() == 1
    assert Reading.objects.filter(inverter__datalogger=logger).count() == 2


def _waiting_for_a_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_a_grid_import_beyond_the_registers_range_is_stored_as_the_import_it_is(simulator, plant, v5_device):
    """37 A imported (grid charging at the evening peak) does not fit signed mA: read back over the
    wire, it is stored +37 A importing, not −28.5 A exporting."""
    v5_device.overrides.update(grid_voltage=230.0, grid_power_l1=8533, grid_current=37.0)
    logger = attach_logger(plant, v5_device, simulator)
    (result,) = polling.poll_loggers([logger.id], force_info=True)
    assert result.ok
    live = logger.inverters.get().live.values
    assert live["grid_current"] == 37.0 and live["grid_power"] > 0
