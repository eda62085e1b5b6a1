"""Several logger hubs on one fleet: the registry in Redis (devices.hubregistry) and a newcomer on one
hub checked against the connection another hub holds."""

import asyncio
import socket
import time

import pytest
import redis
import redis.asyncio as aioredis

from devices import hubregistry, v5
from devices.hub import ask_through_relay, identity_request, inverter_serial_of
from devices.simulator import FleetSimulator, SimulatorThread

from .conftest import awake_inverter
from .test_hub import SERIAL, HubThread, call_in, counted

A, B = "10.0.0.1:10001", "10.0.0.2:10001"


@pytest.fixture
def registry(settings):
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(
        hubregistry.WHERE, hubregistry.HUBS, hubregistry.ALIVE.format(A), hubregistry.ALIVE.format(B)
    )
    return settings.REDIS_URL


def run(url, step):
    """Run `step(client)` on a fresh asyncio Redis client."""

    async def go():
        client = aioredis.Redis.from_url(url)
        try:
            return await step(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def sticks(**connected_at):
    return {
        int(serial.removeprefix("s")): type("Stick", (), {"connected_at": at})
        for serial, at in connected_at.items()
    }


def test_pollers_find_each_stick_at_the_hub_that_holds_it(registry):
    async def step(client):
        await hubregistry.claim(client, A, {101: 1.0, 102: 1.0})
        await hubregistry.claim(client, B, {201: 1.0})
        await hubregistry.beat(client, A, sticks(s101=1.0, s102=1.0))
        await hubregistry.beat(client, B, sticks(s201=1.0))
        return await hubregistry.locate(client, [101, 201, 999])

    assert run(registry, step) == {101: ("10.0.0.1", 10001), 201: ("10.0.0.2", 10001)}


def test_the_newest_connection_wins_whichever_hub_writes_last(registry):
    async def step(client):
        await hubregistry.claim(client, A, {101: 2000.0})
        lost = await hubregistry.claim(client, B, {101: 1000.0})  # an older connection, republished late
        await hubregistry.beat(client, A, sticks(s101=2000.0))
        await hubregistry.beat(client, B, sticks(s101=1000.0))
        superseded_on_b, _missing = await hubregistry.beat(client, B, sticks(s101=1000.0))
        return lost, superseded_on_b, await hubregistry.locate(client, [101])

    lost, superseded_on_b, where = run(registry, step)
    assert lost == [101] and superseded_on_b == [101]  # B drops its connection
    assert where == {101: ("10.0.0.1", 10001)}


def test_a_hub_leaving_removes_only_its_own_claims(registry):
    async def step(client):
        await hubregistry.claim(client, A, {101: 1.0, 102: 1.0})
        await hubregistry.claim(client, B, {102: 2.0})  # 102 reconnected to B
        await hubregistry.release(client, A, [101, 102])
        await hubregistry.beat(client, B, sticks(s102=2.0))
        return await hubregistry.locate(client, [101, 102])

    assert run(registry, step) == {102: ("10.0.0.2", 10001)}


def test_a_killed_hub_holds_nothing_once_its_beat_expires_and_is_pruned(registry):
    async def step(client):
        await hubregistry.claim(client, A, {101: 1.0})
        await hubregistry.beat(client, A, sticks(s101=1.0))
        await hubregistry.beat(client, B, {})
        await client.delete(hubregistry.ALIVE.format(A))  # what its TTL does once it stops beating
        located = await hubregistry.locate(client, [101])
        await hubregistry.prune(client)
        return located, await client.hgetall(hubregistry.WHERE)

    located, left = run(registry, step)
    assert located == {} and left == {}
    status = hubregistry.status(redis.Redis.from_url(registry))
    assert status == {"up": True, "hubs": 1, "sticks": 0}


def test_a_hub_republishing_after_redis_lost_a_write_removes_its_stale_entries(registry):
    async def step(client):
        await hubregistry.claim(client, A, {101: 1.0, 102: 1.0})
        lost = await hubregistry.republish(client, A, sticks(s102=1.0, s103=3.0))
        return lost, sorted(int(s) for s in await client.hkeys(hubregistry.WHERE))

    assert run(registry, step) == ([], [102, 103])


@pytest.fixture
def two_hubs():
    """Hub A holds the stick; hub B is told (as run_logger_hub tells it from the registry) that A does."""
    a = HubThread({SERIAL})
    b = HubThread({SERIAL})
    b.hub.locate = lambda serial: _at(("127.0.0.1", a.hub.relay_port))
    yield a, b
    a.close()
    b.close()


async def _at(address):
    return address


@pytest.fixture
def sim():
    simulator = FleetSimulator(heartbeat_seconds=0)
    simulator.thread = SimulatorThread(simulator)
    with simulator.thread:
        yield simulator


def test_a_stick_reconnecting_to_another_hub_is_taken_over_when_both_give_one_inverter(two_hubs, sim):
    a, b = two_hubs
    device = sim.add_v5(awake_inverter(SERIAL, "KSHUB00001"))
    call_in(sim.thread, sim, device, a)
    call_in(sim.thread, sim, device, b)  # the same stick through another route (a balancer)
    assert b.hub.counters["taken_over"] == 1


def test_an_impostor_on_another_hub_is_never_bound_while_the_real_stick_answers(two_hubs, sim):
    a, b = two_hubs
    call_in(sim.thread, sim, sim.add_v5(awake_inverter(SERIAL, "KSHUB00001")), a)
    impostor = FleetSimulator(heartbeat_seconds=0)
    thread = SimulatorThread(impostor)
    with thread:
        device = impostor.add_v5(awake_inverter(SERIAL, "KSOTHER0001"))
        asyncio.run_coroutine_threadsafe(
            impostor.call_in("127.0.0.1", b.hub.port, [device], backoff=5), thread.loop
        ).result(5)
        assert counted(b, "refused_duplicate")
    assert SERIAL not in b.hub.sticks and SERIAL in a.hub.sticks


def test_the_relay_of_another_hub_answers_the_identity_probe(two_hubs, sim):
    """The probe a hub sends through another hub's relay is the public identity request, and its
    reply gives the inverter's serial."""
    a, _b = two_hubs
    call_in(sim.thread, sim, sim.add_v5(awake_inverter(SERIAL, "KSHUB00001")), a)
    reply = a.run(
        ask_through_relay(("127.0.0.1", a.hub.relay_port), SERIAL, identity_request(SERIAL), timeout=3)
    )
    assert inverter_serial_of(reply) == "KSHUB00001"
    started = time.monotonic()
    assert (
        a.run(ask_through_relay(("127.0.0.1", a.hub.relay_port), 999, identity_request(999), timeout=3))
        is None
    )
    assert time.monotonic() - started < 3  # "not called in" is said at once


def proxied_heartbeat(port, source, serial=SERIAL):
    """A stick's first frame through a balancer that sends the PROXY protocol line; the hub's answer
    (b"" when it closed the connection)."""
    with socket.create_connection(("127.0.0.1", port)) as raw:
        if source is not None:
            raw.sendall(f"PROXY TCP4 {source} 203.0.113.1 40000 10000\r\n".encode())
        raw.sendall(v5.heartbeat(1, serial))
        raw.settimeout(2)
        try:
            return raw.recv(64)
        except (TimeoutError, ConnectionError):
            return b""


def test_behind_a_balancer_the_per_address_limit_counts_each_sticks_own_address():
    running = HubThread({SERIAL}, proxy_protocol=True, max_per_address=1)
    try:
        with socket.create_connection(("127.0.0.1", running.hub.port)) as first:  # held open
            first.sendall(
                b"PROXY TCP4 198.51.100.7 203.0.113.1 40000 10000\r\n" + v5.heartbeat(1, 1234567890)
            )
            first.settimeout(2)
            assert first.recv(64)
            assert proxied_heartbeat(running.hub.port, "198.51.100.8")  # another box: its own count
            assert not proxied_heartbeat(running.hub.port, "198.51.100.7")  # the same box again: over
        assert running.hub.counters["refused_capacity"] == 1
    finally:
        running.close()


def test_behind_a_balancer_a_connection_without_the_proxy_line_is_refused():
    running = HubThread({SERIAL}, proxy_protocol=True)
    try:
        assert not proxied_heartbeat(running.hub.port, None)  # no answer: nobody knows who it is
        assert counted(running, "refused_capacity") == 1 and SERIAL not in running.hub.sticks
    finally:
        running.close()
