"""The logger hub over real TCP: simulated sticks call in, pollers read them through the relay."""

import asyncio
import socket
import struct
import threading
import time

import pytest
import redis
import redis.asyncio as aioredis
from django.urls import reverse

from devices import hubstate, polling, v5
from devices.hub import LoggerHub
from devices.models import Datalogger, DeviceStatus, Reading
from devices.registermap import LIVE_PLAN
from devices.simulator import FleetSimulator, SimulatorThread
from devices.transport import DeviceError, Endpoint, Reason, connect, read_values

from .conftest import awake_inverter, login, text


class HubThread:
    """A LoggerHub on its own event loop in a thread; `known` is the set of serials it accepts."""

    def __init__(self, known, port=0, relay_port=0, on_change=None):
        self.known = known
        self.on_change = on_change
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.hub = None
        self.start(port, relay_port)

    def run(self, coroutine, timeout=10):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self, port=0, relay_port=0):
        async def is_known(serial):
            return serial in self.known

        self.hub = LoggerHub(
            is_known, host="127.0.0.1", port=port, relay_port=relay_port, on_change=self.on_change
        )
        self.run(self.hub.start())

    def stop(self):
        self.run(self.hub.stop())

    def close(self):
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def wait_for(self, serial, present=True, seconds=5):
        deadline = time.monotonic() + seconds
        while (serial in self.hub.sticks) != present:
            assert time.monotonic() < deadline, f"stick {serial} {'never called in' if present else 'stayed'}"
            time.sleep(0.01)


SERIAL = 2377770001


@pytest.fixture
def hub():
    running = HubThread({SERIAL})
    yield running
    running.close()


@pytest.fixture
def fast(settings):
    settings.DEVICE_TIMEOUT_SECONDS = 1
    settings.DEVICE_RETRIES = 0
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01


def call_in(sim_thread, sim, device, hub):
    asyncio.run_coroutine_threadsafe(
        sim.call_in("127.0.0.1", hub.hub.port, [device], backoff=0.05), sim_thread.loop
    ).result(5)
    hub.wait_for(device.logger_serial)


@pytest.fixture
def stick(hub):
    sim = FleetSimulator(heartbeat_seconds=0)
    thread = SimulatorThread(sim)
    thread.__enter__()
    device = sim.add_v5(awake_inverter(SERIAL, "KSHUB00001", latency=0.05))
    call_in(thread, sim, device, hub)
    yield sim, thread, device
    thread.__exit__(None, None, None)


def hub_logger(plant, settings, hub):
    settings.LOGGER_HUB_RELAY_PORT = hub.hub.relay_port
    return Datalogger.objects.create(plant=plant, serial_number=str(SERIAL), reach="hub")


def through_hub(hub, serial=SERIAL, plan=LIVE_PLAN):
    async def go():
        endpoint = Endpoint(
            "solarman_v5", "127.0.0.1", hub.hub.relay_port, serial, timeout=2, gap=0.01, via_hub=True
        )
        async with connect(endpoint) as conn:
            return await read_values(conn, plan)

    return asyncio.run(go())


def test_a_called_in_stick_is_polled_through_the_hub_and_stored_as_if_direct(
    plant, settings, hub, stick, fast
):
    sim, _thread, device = stick
    logger = hub_logger(plant, settings, hub)
    (result,) = polling.poll_loggers([logger.id], force_info=True)
    assert result.ok, result.error
    inverter = logger.inverters.get()
    assert inverter.serial_number == "KSHUB00001" and inverter.model_name == "BluE-S 6000D"
    own = device.values()
    assert (
        inverter.latest["grid_standard"] == own["grid_standard"]
        and inverter.latest["battery_soc"] is not None
    )
    assert Reading.objects.filter(inverter=inverter).count() == 1
    logger.refresh_from_db()
    assert logger.status == DeviceStatus.ONLINE


def test_the_hub_answers_a_sticks_own_frames_as_the_public_material_shows(hub):
    """decode_srv-response.md: 23 bytes, 10 then type − 0x30, sequence, serial, frame type, 01, time, 78."""
    with socket.create_connection(("127.0.0.1", hub.hub.port)) as raw:
        heartbeat = bytearray(
            bytes.fromhex("a5 01 00 10 47 05 06") + struct.pack("<I", SERIAL) + b"\x00\x00\x15"
        )
        heartbeat[-2] = sum(heartbeat[1:-2]) & 0xFF
        raw.sendall(heartbeat)
        answer = raw.recv(64)
    assert len(answer) == 23 and answer[0] == 0xA5 and answer[1:3] == b"\x0a\x00"
    assert answer[3:5] == b"\x10\x17" and answer[6] == 0x06 and answer[7:11] == struct.pack("<I", SERIAL)
    assert answer[11:13] == b"\x00\x01" and answer[17:21] == b"\x78\x00\x00\x00"
    assert abs(struct.unpack("<I", answer[13:17])[0] - time.time()) < 5
    assert answer[-1] == 0x15 and answer[-2] == sum(answer[1:-2]) & 0xFF


def test_an_unknown_serial_is_closed_and_nothing_is_stored(hub):
    with socket.create_connection(("127.0.0.1", hub.hub.port)) as raw:
        raw.sendall(v5.heartbeat(1, 1234567890))
        raw.settimeout(2)
        assert raw.recv(64) == b""  # closed without an answer
    assert hub.hub.counters["refused_unknown"] == 1 and not hub.hub.sticks


def test_a_second_connection_claiming_a_connected_serial_does_not_take_it_over(stick, hub):
    with socket.create_connection(("127.0.0.1", hub.hub.port)) as impostor:
        impostor.sendall(v5.heartbeat(1, SERIAL))
        impostor.settimeout(2)
        assert impostor.recv(64) == b""
    assert hub.hub.counters["refused_duplicate"] == 1 and hub.hub.security_events[0][1] == SERIAL
    assert through_hub(hub)["pv1_power"] is not None  # the established stick still answers


def test_a_stick_that_has_not_called_in_is_said_in_words(hub, plant, settings, fast):
    logger = hub_logger(plant, settings, hub)
    (result,) = polling.poll_loggers([logger.id])
    assert "pas connectée au hub" in str(result.error)
    with pytest.raises(DeviceError) as error:
        through_hub(hub)
    assert error.value.reason == Reason.NOT_CALLED_IN


def test_a_hub_killed_mid_cycle_is_not_offline_at_once_and_the_stick_comes_back(
    plant, settings, hub, stick, fast
):
    _sim, _thread, device = stick
    logger = hub_logger(plant, settings, hub)
    polling.poll_loggers([logger.id], force_info=True)
    port, relay_port = hub.hub.port, hub.hub.relay_port
    hub.stop()
    (result,) = polling.poll_loggers([logger.id])
    logger.refresh_from_db()
    assert not result.ok and "pas connectée au hub" in str(logger.last_error)
    assert logger.status == DeviceStatus.ONLINE and logger.missed_polls == 1  # the usual missed-poll rule
    hub.start(port, relay_port)
    hub.wait_for(SERIAL)  # the stick reconnects by itself
    (result,) = polling.poll_loggers([logger.id])
    assert result.ok


def test_garbage_half_frames_and_idle_connections_never_block_another_sticks_poll(stick, hub):
    pests = [socket.create_connection(("127.0.0.1", hub.hub.port)) for _ in range(3)]
    pests[0].sendall(b"\xde\xad\xbe\xef" * 64)
    pests[1].sendall(v5.heartbeat(1, SERIAL)[:7])  # half a frame, then nothing
    # pests[2] says nothing at all
    started = time.monotonic()
    assert through_hub(hub)["pv1_power"] is not None
    assert time.monotonic() - started < 2
    relay_pest = socket.create_connection(("127.0.0.1", hub.hub.relay_port))
    relay_pest.sendall(b"AURA-HUB not-a-serial\n" + b"\x00" * 100)
    assert through_hub(hub)["pv1_power"] is not None
    for pest in [*pests, relay_pest]:
        pest.close()


def test_two_pollers_on_one_stick_are_serialised_by_the_hub(stick, hub):
    _sim, _thread, device = stick

    async def both():
        async def one():
            endpoint = Endpoint(
                "solarman_v5", "127.0.0.1", hub.hub.relay_port, SERIAL, timeout=5, gap=0, via_hub=True
            )
            async with connect(endpoint) as conn:
                return await read_values(conn, LIVE_PLAN)

        return await asyncio.gather(one(), one())

    first, second = asyncio.run(both())
    assert first["model_code"] == second["model_code"] == 12  # each got its own replies, whole
    assert hub.hub.counters["relayed"] == 2 * len(LIVE_PLAN)


def test_the_commissioning_step_shows_when_the_stick_calls_in(installer, plant, settings):
    redis.Redis.from_url(settings.REDIS_URL).delete(hubstate.CALLED_IN)
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    running = HubThread({SERIAL}, on_change=lambda serial, up: hubstate.record(client, serial, up))
    sim = FleetSimulator(heartbeat_seconds=0)
    thread = SimulatorThread(sim)
    thread.__enter__()
    try:
        logger = hub_logger(plant, settings, running)
        installer_client = login(installer)
        page = installer_client.get(reverse("plants:commission", args=[plant.pk, "test"])).content.decode()
        assert (
            "AP_2377770001" in page and "config_hide.html" in page and str(settings.LOGGER_HUB_PORT) in page
        )
        url = reverse("plants:called_in", args=[plant.pk, logger.pk])
        assert "En attente" in installer_client.get(url).content.decode()
        call_in(thread, sim, sim.add_v5(awake_inverter(SERIAL, "KSHUB00001")), running)
        time.sleep(0.1)  # the hub records the call in Redis right after accepting it
        assert "a appelé le portail" in text(installer_client.get(url))
    finally:
        thread.__exit__(None, None, None)
        running.close()


def test_an_impostor_refused_by_the_hub_is_shown_to_the_distributor_admin(admin_user, installer):
    hubstate.record_security_event(SERIAL, ("198.51.100.9", 40000))
    body = login(admin_user).get(reverse("security_events")).content.decode()
    assert "198.51.100.9" in body and str(SERIAL) in body
    assert login(installer).get(reverse("security_events")).status_code == 403


def test_a_call_in_is_recorded_on_the_logger(plant, settings, hub):
    logger = hub_logger(plant, settings, hub)
    hubstate.mark_called_in([SERIAL])
    logger.refresh_from_db()
    assert logger.last_called_in_at is not None
