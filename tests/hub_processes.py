"""Real `run_logger_hub` processes for the scale-out tests, registering their sticks in the test's Redis."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass

from core.redisconn import redis_client
from devices import hubregistry

from .stack import ROOT, free_port, wait_for
from .test_production_stack import database_url


@dataclass
class Hub:
    port: int  # the sticks'
    relay: int
    process: subprocess.Popen

    @property
    def name(self):
        return f"127.0.0.1:{self.relay}"

    def kill(self):
        """SIGKILL: no goodbye, its registry entries stay until its beat expires."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@contextlib.contextmanager
def hub_processes(count, settings, *options):
    """`count` hubs on free ports with `options`, an empty registry, each listening when they are
    yielded; all stopped after."""
    redis_client().delete(hubregistry.WHERE, hubregistry.HUBS)
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL}
    hubs = []
    try:
        for _ in range(count):
            port, relay = free_port(), free_port()
            process = subprocess.Popen(
                [sys.executable, "manage.py", "run_logger_hub", "--host", "127.0.0.1", "--port", str(port),
                 "--relay-port", str(relay), *options],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            hubs.append(Hub(port, relay, process))
        for hub in hubs:  # listening (Django's start takes seconds on a busy machine)
            wait_for(lambda hub=hub: socket.create_connection(("127.0.0.1", hub.relay), 0.5).close() or True)
        yield hubs
    finally:
        for hub in hubs:
            if hub.process.poll() is None:
                os.killpg(hub.process.pid, signal.SIGTERM)
                hub.process.wait(20)


def held_by(serials):
    """The hub (relay address) each serial's registry entry names, None where there is none."""
    entries = redis_client().hmget(hubregistry.WHERE, [str(s) for s in serials])
    return [entry.decode().split()[0] if entry else None for entry in entries]
