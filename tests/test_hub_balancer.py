"""Two real hub processes behind a real HAProxy (Debian's) run with the deployment's own
deploy/haproxy.cfg: the sticks call the balancer in, each hub learns the stick's address from the
PROXY protocol, and a hub killed hands its sticks to the other through the balancer."""

import asyncio
import re
import subprocess
import time

import pytest

from devices import polling
from devices.models import Datalogger

from .conftest import awake_inverter
from .hub_processes import held_by, hub_processes
from .stack import ROOT, free_port, wait_for

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


@pytest.mark.django_db(transaction=True)
def test_sticks_through_the_balancer_reach_both_hubs_and_survive_one_killed(
    plant, simulator, settings, tmp_path
):
    serials = [2355553300 + i for i in range(STICKS)]
    ids = [Datalogger.objects.create(plant=plant, serial_number=str(s), reach="hub").id for s in serials]
    devices = [simulator.add_v5(awake_inverter(s, f"KSB{s}")) for s in serials]
    calls, balancer = [], None
    try:
        with hub_processes(2, settings, "--proxy-protocol") as (first, second):
            front = free_port()
            config = balancer_config(tmp_path, front, [first.port, second.port])
            balancer = subprocess.Popen(
                ["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(2)  # the balancer's health checks find both hubs up (rise 2, every 0.5 s)
            calls = asyncio.run_coroutine_threadsafe(
                simulator.call_in("127.0.0.1", front, devices, backoff=0.3), simulator.thread.loop
            ).result(5)
            wait_for(lambda: None not in held_by(serials))
            assert set(held_by(serials)) == {first.name, second.name}  # the balancer spread them
            assert [r.ok for r in polling.poll_loggers(ids)] == [True] * STICKS

            first.kill()
            wait_for(lambda: set(held_by(serials)) == {second.name})  # called in again, through the balancer
            assert [r.ok for r in polling.poll_loggers(ids)] == [True] * STICKS
    finally:
        for call in calls:
            simulator.thread.loop.call_soon_threadsafe(call.cancel)
        if balancer is not None:
            balancer.terminate()
            balancer.wait(10)
        for serial in serials:
            simulator.v5_devices.pop(serial, None)
