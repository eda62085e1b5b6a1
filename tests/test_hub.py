"""The logger hub over real TCP: simulated sticks call in, pollers read them through the relay."""

import asyncio
import contextlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
import redis.asyncio as aioredis
from django.urls import reverse

from devices import hub as hub_module
from devices import hubregistry, hubstate, polling, v5
from devices.hub import LoggerHub, identity_request, inverter_serial_of
from devices.models import Datalogger, DeviceStatus, Reading
from devices.registermap import INFO_PLAN, LIVE_PLAN
from devices.simulator import FleetSimulator, SimulatorThread
from devices.transport import DeviceError, Endpoint, Reason, connect, read_values

from .conftest import awake_inverter, login, text


class HubThread:
    """A LoggerHub on its own event loop in a thread; `known` is the set of serials it accepts."""

    def __init__(self, known, port=0, relay_port=0, on_change=None, **options):
        self.known = known
        self.options = {"probe_seconds": 2, **options}
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
            is_known,
            host="127.0.0.1",
            port=port,
            relay_port=relay_port,
            on_change=self.on_change,
            **self.options,
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


ROOT = Path(__file__).resolve().parents[1]
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


def test_a_frame_with_a_wrong_checksum_or_end_is_garbage_not_answered(hub):
    """A heartbeat (decode_heartbeat.md) whose checksum, or whose end byte, is wrong: counted as
    garbage and never answered; the stick's next good frame on the same line is."""
    good = bytearray(bytes.fromhex("a5 01 00 10 47 05 06") + struct.pack("<I", SERIAL) + b"\x00\x00\x15")
    good[-2] = sum(good[1:-2]) & 0xFF
    bad_checksum, bad_end = bytearray(good), bytearray(good)
    bad_checksum[-2] = (good[-2] + 1) & 0xFF
    bad_end[-1] = 0x16
    with socket.create_connection(("127.0.0.1", hub.hub.port)) as raw:
        raw.settimeout(1)
        for garbage in (bad_checksum, bad_end):
            raw.sendall(garbage)
            with pytest.raises(TimeoutError):
                raw.recv(64)
        assert hub.hub.counters["garbage"] == 2
        raw.sendall(good)
        assert len(raw.recv(64)) == 23


def read_after(chunks, *, garbage_limit):
    """read_frame over a line that brings `chunks` one after the other (the reader's buffer holds
    16 bytes, so longer junk without a start byte is dropped a buffer at a time)."""

    async def run():
        reader = asyncio.StreamReader(limit=16)
        reading = asyncio.create_task(v5.read_frame(reader, garbage_limit=garbage_limit))
        for chunk in chunks:
            reader.feed_data(chunk)
            await asyncio.sleep(0.01)
        return await asyncio.wait_for(reading, 2)

    return asyncio.run(run())


def test_junk_before_a_frame_is_counted_across_buffers_up_to_the_limit():
    """55 bytes of junk in three pieces (two longer than the buffer) before a heartbeat: read with a
    limit of 55, refused with a limit of 54; with no limit, read whatever the junk."""
    beat = v5.heartbeat(1, SERIAL)
    junk = [b"\x00" * 20, b"\x00" * 20, b"\x00" * 15 + beat]
    assert read_after(junk, garbage_limit=55) == beat
    with pytest.raises(v5.FrameError):
        read_after(junk, garbage_limit=54)
    assert read_after([b"\x00" * 100, beat], garbage_limit=None) == beat


def test_the_heartbeat_is_the_sticks_frame_byte_for_byte():
    """decode_heartbeat.md: start, length 1, control 0x4710, sequence, the logger serial (little
    endian), one zero byte of payload, checksum (sum of the bytes between start and it), end."""
    assert v5.heartbeat(1, SERIAL) == bytes.fromhex("a5 0100 1047 0100 11e4b98d 00 94 15")


def test_junk_or_a_payload_exactly_at_its_limit_is_read_one_byte_more_is_refused():
    """Junk exactly at the garbage limit, dropped a whole buffer at a time, is still tolerated; a
    payload of MAX_PAYLOAD bytes is read; one byte more of either and the line is not trusted."""
    beat = v5.heartbeat(1, SERIAL)
    assert read_after([b"\x00" * 20, b"\x00" * 20, beat], garbage_limit=40) == beat
    with pytest.raises(v5.FrameError, match="41 bytes without a frame"):
        read_after([b"\x00" * 20, b"\x00" * 21, beat], garbage_limit=40)

    def of_length(length):
        return bytes.fromhex("a5") + length.to_bytes(2, "little") + bytes(8) + bytes(length) + b"\x00\x15"

    largest = of_length(v5.MAX_PAYLOAD)
    assert read_after([largest], garbage_limit=None) == largest
    with pytest.raises(v5.FrameError, match="payload of 1025 bytes"):
        read_after([of_length(v5.MAX_PAYLOAD + 1)], garbage_limit=None)


def answer_to_heartbeat(serial, port):
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(v5.heartbeat(1, serial))
        raw.settimeout(2)
        answer = raw.recv(64)
    return answer[:13] + answer[17:]  # all but the timestamp


def test_an_unknown_serial_is_answered_like_a_known_one_and_never_polled(hub):
    """No registration oracle: the serial printed on a stick (its hotspot's name) is no secret."""
    assert answer_to_heartbeat(1234567890, hub.hub.port)[7:11] == struct.pack("<I", 1234567890)
    unknown = answer_to_heartbeat(1234567890, hub.hub.port).replace(struct.pack("<I", 1234567890), b"")
    known = answer_to_heartbeat(SERIAL, hub.hub.port).replace(struct.pack("<I", SERIAL), b"")
    assert unknown[:-2] == known[:-2]  # the same answer but for the serial (and so the checksum)
    assert hub.hub.counters["refused_unknown"] == 2 and 1234567890 not in hub.hub.sticks


@contextlib.contextmanager
def calling_in(hub, inverter_serial, *, backoff):
    """A simulated stick with the logger serial SERIAL, on a simulator of its own, calling `hub` in
    (again after `backoff` seconds when dropped); yields its device."""
    sim = FleetSimulator(heartbeat_seconds=0)
    thread = SimulatorThread(sim)
    with thread:
        device = sim.add_v5(awake_inverter(SERIAL, inverter_serial, latency=0.05))
        asyncio.run_coroutine_threadsafe(
            sim.call_in("127.0.0.1", hub.hub.port, [device], backoff=backoff), thread.loop
        ).result(5)
        yield device


def counted(hub, counter, seconds=10):
    """The hub's `counter` once it is above zero (or when `seconds` have passed)."""
    deadline = time.monotonic() + seconds
    while not hub.hub.counters[counter] and time.monotonic() < deadline:
        time.sleep(0.05)
    return hub.hub.counters[counter]


def test_a_newcomer_with_another_inverter_behind_it_is_never_polled_while_the_stick_answers(stick, hub):
    with calling_in(hub, "KSOTHER001", backoff=5) as impostor:
        assert counted(hub, "refused_duplicate") == 1 and hub.hub.security_events[0][1] == SERIAL
        assert through_hub(hub, plan=INFO_PLAN)["serial_number"] == "KSHUB00001"  # the real stick's
        assert impostor.writes == [] and impostor.reads == [(4, 3228)]  # only asked who it is


def test_stick_connections_have_tcp_keepalive(stick, hub):
    (bound,) = hub.hub.sticks.values()
    sock = bound.writer.get_extra_info("socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 120


def test_a_stick_whose_old_connection_went_silent_is_taken_back_at_once(hub):
    """An internet box rebooted: the old connection stays half-open (no FIN), the stick calls in
    again on a new one. It is polled at once; nobody is blamed."""
    silent = socket.create_connection(("127.0.0.1", hub.hub.port))
    silent.sendall(v5.heartbeat(1, SERIAL))
    hub.wait_for(SERIAL)  # bound, then it reads nothing more and answers nothing
    with calling_in(hub, "KSHUB00001", backoff=0.05):
        assert counted(hub, "taken_over") == 1
        assert through_hub(hub)["pv1_power"] is not None
    assert not hub.hub.security_events
    silent.close()


def test_the_same_stick_calling_in_twice_keeps_the_newest_connection():
    """Both connections answer with the same inverter: the newest takes over. (Each simulated stick
    waits 30 s before calling in again once dropped: a real stick has one connection, so the one
    dropped here must not come back and take over in turn during the test.)"""
    hub = HubThread({SERIAL}, probe_seconds=3)
    try:
        with calling_in(hub, "KSHUB00001", backoff=30):
            hub.wait_for(SERIAL)
            with calling_in(hub, "KSHUB00001", backoff=30) as newest:
                assert counted(hub, "taken_over") == 1 and not hub.hub.security_events
                assert through_hub(hub)["pv1_power"] is not None
                assert newest.reads[-1][1] != 3228  # the newest connection answered the poll
    finally:
        hub.close()


def test_a_relay_caller_without_the_portals_token_cannot_write(stick, hub):
    _sim, _thread, device = stick
    write = v5.frame(v5.REQUEST, 1, SERIAL, b"\x02" + bytes(14) + bytes.fromhex("0106 0cf3 0001"))  # restart
    for preamble in (b"AURA-HUB %d\n" % SERIAL, b"AURA-HUB %d %s\n" % (SERIAL, b"0" * 64)):
        with socket.create_connection(("127.0.0.1", hub.hub.relay_port)) as caller:
            caller.sendall(preamble + write)
            caller.settimeout(2)
            assert caller.recv(64) == b""
    assert device.writes == [] and device.restarts == 0


def test_a_flood_of_junk_is_cut_off_and_the_relay_stays_quick(stick, hub):
    floods = [socket.create_connection(("127.0.0.1", hub.hub.port)) for _ in range(20)]
    for flood in floods:
        flood.setblocking(False)
        with contextlib.suppress(OSError):
            flood.send(bytes(64 * 1024))
    started = time.monotonic()
    assert through_hub(hub)["pv1_power"] is not None
    assert time.monotonic() - started < 0.5  # the bound: junk costs a find, not a loop per byte
    deadline = time.monotonic() + 5
    while hub.hub._connections > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.hub._connections == 1  # every flooding connection closed; the stick's stays
    for flood in floods:
        flood.close()


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
    redis.Redis.from_url(settings.REDIS_URL).delete(hubregistry.WHERE)
    client = aioredis.Redis.from_url(settings.REDIS_URL)

    async def record(serial, up):  # what run_logger_hub does
        if up:
            await hubregistry.claim(client, "127.0.0.1:1", {serial: time.time()})
        else:
            await hubregistry.release(client, "127.0.0.1:1", [serial])

    running = HubThread({SERIAL}, on_change=record)
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
        alive = redis.Redis.from_url(settings.REDIS_URL)
        alive.set(hubregistry.ALIVE.format("127.0.0.1:1"), 1, ex=hubregistry.ALIVE_SECONDS)  # its beat
        assert "a appelé le portail" in text(installer_client.get(url))
        alive.delete(
            hubregistry.ALIVE.format("127.0.0.1:1")
        )  # the hub died: its list in Redis says nothing any more
        assert "En attente" in text(installer_client.get(url))
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


def eventually(read, seconds=20):
    """`read()`'s value once it stops raising DeviceError (sticks are still calling in)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return read()
        except DeviceError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_hub_process_lives_through_redis_down_at_start_and_killed_while_polling(plant, settings):
    """A real redis-server on its own port and the real `run_logger_hub`: down at start, then
    killed while 100 sticks are polled through the hub. The hub never exits, keeps relaying, and
    republishes who called in once Redis is back."""
    redis_port, stick_port, relay_port = free_port(), free_port(), free_port()
    serials = [2377780000 + i for i in range(100)]
    Datalogger.objects.bulk_create(
        Datalogger(plant=plant, serial_number=str(s), reach="hub") for s in serials
    )
    db = settings.DATABASES["default"]
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}  # fmt: skip
    hub_process = subprocess.Popen(
        [sys.executable, "manage.py", "run_logger_hub", "--host", "127.0.0.1", "--port", str(stick_port),
         "--relay-port", str(relay_port)],
        cwd=ROOT, env=env,
    )  # fmt: skip
    redis_server = None
    state = redis.Redis(port=redis_port, socket_timeout=1)

    def start_redis():
        return subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def published(seconds=45):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if state.hlen(hubregistry.WHERE) == len(serials) and hubregistry.status(state)["up"]:
                    return True
            time.sleep(0.2)
        return False

    relay = SimpleNamespace(hub=SimpleNamespace(relay_port=relay_port))
    sim = FleetSimulator(heartbeat_seconds=0)
    thread = SimulatorThread(sim)
    try:
        with thread:
            devices = [sim.add_v5(awake_inverter(s, f"KS{s}")) for s in serials]
            time.sleep(1)  # the hub listens (Redis is down)
            asyncio.run_coroutine_threadsafe(
                sim.call_in("127.0.0.1", stick_port, devices, backoff=0.2), thread.loop
            ).result(5)
            assert eventually(lambda: through_hub(relay, serials[-1]))["pv1_power"] is not None  # no Redis
            redis_server = start_redis()
            assert published(), "the hub's state never reached Redis"
            redis_server.kill()
            redis_server.wait(10)
            for serial in serials[::10]:  # polls go on while Redis is gone
                assert through_hub(relay, serial)["pv1_power"] is not None
            time.sleep(6)  # the hub's beat fails at least once
            assert hub_process.poll() is None
            redis_server = start_redis()
            assert published(), "the hub did not republish after Redis came back"
            assert through_hub(relay, serials[-1])["pv1_power"] is not None
    finally:
        hub_process.terminate()
        hub_process.wait(20)
        if redis_server is not None:
            redis_server.kill()
            redis_server.wait(10)


def test_the_identity_probe_is_the_public_v5_request_for_input_3228_to_3238():
    """Written from pysolarmanv5's documented layout and the public definition (input registers
    3228–3238, function 04, unit 1): not from our encoder."""
    frame = identity_request(SERIAL)
    assert frame[0] == 0xA5 and frame[1:3] == bytes.fromhex("1700")  # payload: 15 + 8 bytes
    assert frame[3:5] == bytes.fromhex("1045") and frame[7:11] == struct.pack("<I", SERIAL)
    assert frame[11:26] == bytes.fromhex("02" + "00" * 14)  # frame type 2, sensor type, three times
    assert frame[26:34] == bytes.fromhex("01 04 0c9c 000b 72b3")  # Modbus RTU with its CRC
    assert frame[-2] == sum(frame[1:-2]) & 0xFF and frame[-1] == 0x15


def test_the_inverter_serial_is_read_from_a_public_reply_frame():
    ascii_words = b"KS5000D2401".ljust(22, b"\x00")
    modbus = bytes.fromhex("01 04 16") + ascii_words + b"\x00\x00"  # CRC not checked here
    payload = bytes.fromhex("02 01") + bytes(12) + modbus
    reply = bytearray(bytes.fromhex("a5") + len(payload).to_bytes(2, "little") + bytes.fromhex("1015 0101"))
    reply += struct.pack("<I", SERIAL) + payload + b"\x00\x15"
    assert inverter_serial_of(bytes(reply)) == "KS5000D2401"
    no_inverter = (
        bytes.fromhex("a5 1000 1015 0101") + struct.pack("<I", SERIAL) + bytes(14) + b"\x05\x00\x00\x15"
    )
    assert inverter_serial_of(no_inverter) is None  # `05 00`: alive, but no inverter answered


def test_a_refused_claim_never_inherits_the_serial_when_the_stick_goes(hub, monkeypatch):
    monkeypatch.setattr(hub_module, "RECHECK_SECONDS", 0)  # look again at every frame
    impostor = socket.create_connection(("127.0.0.1", hub.hub.port))
    with calling_in(hub, "KSHUB00001", backoff=30):
        hub.wait_for(SERIAL)
        impostor.sendall(v5.heartbeat(1, SERIAL))  # it answers no probe: refused
        assert counted(hub, "refused_duplicate") == 1
    hub.wait_for(SERIAL, present=False)  # the real stick's box reboots
    impostor.sendall(v5.heartbeat(2, SERIAL))
    time.sleep(0.3)
    assert SERIAL not in hub.hub.sticks
    impostor.close()
