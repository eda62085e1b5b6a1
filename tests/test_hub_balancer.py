"""Two real hub processes behind a real HAProxy (Debian's) run with the deployment's own
deploy/haproxy.cfg: the sticks call the balancer in, each hub learns the stick's address from the
PROXY protocol, and a hub killed hands its sticks to the other through the balancer."""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from core.redisconn import redis_client
from devices import hubregistry, polling
from devices.models import Datalogger

from .conftest import awake_inverter
from .test_production_stack import ROOT, database_url, free_port, wait_for

pytestmark = pytest.mark.slow  # other processes
STICKS = 10


def balancer_config(tmp_path, port, hub_ports):
    """deploy/haproxy.cfg as shipped, but for its addresses: this machine's ports instead of Docker's
    DNS, and as many connections as this machine's descriptors allow."""
    config = (ROOT / "deploy" / "haproxy.cfg").read_text()
    config = config.replace("bind :10000", f"bind 127.0.0.1:{port}")
    config = re.sub(r"maxconn \d+", "maxconn 2000", config)
    config = re.sub(r"\nresolvers docker\n(    .*\n)+", "\n", config)
    template = re.search(r"    server-template .*\n", config).group(0)
    assert "send-proxy" in template and "check" in template
    servers = "".join(
        f"    server hub{i} 127.0.0.1:{hub_port} check inter 500 fall 2 send-proxy\n"
        for i, hub_port in enumerate(hub_ports)
    )
    path = tmp_path / "haproxy.cfg"
    path.write_text(config.replace(template, servers))
    return path


def held_by(serials):
    entries = redis_client().hmget(hubregistry.WHERE, [str(s) for s in serials])
    return [e.decode().split()[0] if e else None for e in entries]


def eventually(check, seconds=60):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.3)


@pytest.mark.django_db(transaction=True)
def test_sticks_through_the_balancer_reach_both_hubs_and_survive_one_killed(
    plant, simulator, settings, tmp_path
):
    serials = [2355553300 + i for i in range(STICKS)]
    ids = [Datalogger.objects.create(plant=plant, serial_number=str(s), reach="hub").id for s in serials]
    redis_client().delete(hubregistry.WHERE, hubregistry.HUBS)
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL}
    ports = [(free_port(), free_port()) for _ in range(2)]
    hubs = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_logger_hub",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--relay-port",
                str(relay),
                "--proxy-protocol",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        for port, relay in ports
    ]
    front = free_port()
    balancer = subprocess.Popen(
        ["haproxy", "-db", "-f", str(balancer_config(tmp_path, front, [p for p, _r in ports]))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    devices = [simulator.add_v5(awake_inverter(s, f"KSB{s}")) for s in serials]
    calls = []
    try:
        for _port, relay in ports:
            wait_for(lambda relay=relay: socket.create_connection(("127.0.0.1", relay), 0.5).close() or True)
        time.sleep(2)  # the balancer's health checks find both hubs up (rise 2, every 0.5 s)
        calls = asyncio.run_coroutine_threadsafe(
            simulator.call_in("127.0.0.1", front, devices, backoff=0.3), simulator.thread.loop
        ).result(5)
        eventually(lambda: None not in held_by(serials))
        first, second = (f"127.0.0.1:{relay}" for _port, relay in ports)
        assert set(held_by(serials)) == {first, second}  # the balancer spread them
        assert [r.ok for r in polling.poll_loggers(ids)] == [True] * STICKS

        os.killpg(hubs[0].pid, signal.SIGKILL)
        hubs[0].wait(10)
        eventually(lambda: set(held_by(serials)) == {second})  # called in again, through the balancer
        assert [r.ok for r in polling.poll_loggers(ids)] == [True] * STICKS
    finally:
        for call in calls:
            simulator.thread.loop.call_soon_threadsafe(call.cancel)
        balancer.terminate()
        balancer.wait(10)
        for hub in hubs:
            if hub.poll() is None:
                os.killpg(hub.pid, signal.SIGTERM)
                hub.wait(20)
        for serial in serials:
            simulator.v5_devices.pop(serial, None)
