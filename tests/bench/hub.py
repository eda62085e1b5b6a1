"""Benchmark: one poll cycle of a fleet whose sticks all called in to logger hubs (two by default,
`BENCH_HUBS`; 20,000 sticks, `BENCH_INVERTERS`), against the same cycle polled directly, in the same
run.

Processes besides this one: the simulators (`simulate_fleet --count 10000 --call-in A,B`, one per 10,000
sticks: the sticks spread over the hubs as through a balancer; 200 ms latency per answer, their clock
fixed at local noon so that no inverter is asleep whatever the hour of the run), the hubs
(`run_logger_hub`, each registering its sticks in Redis), and this poller, which runs every batch of the
cycle as one Celery worker process does, finding each stick's hub in the registry, decoding and storing
into PostgreSQL. Each measured cycle has its own history slot, after a cold cycle that reads the
identities. The direct figure polls the very same simulated sticks on the simulators' V5 ports. Last
line:
hubs=<n> hub_sticks=<n> hub_polls_per_s=<n> hub_cycle_s=<n> hub_vs_direct=<n> hub_rss_mb=<n,n>
direct_polls_per_s=<n>
"""

import os
import subprocess
import sys
import time
from datetime import timedelta

os.environ.setdefault("BENCH_INVERTERS", "20000")
HUBS = int(os.environ.get("BENCH_HUBS", 2))
SIMULATOR_STICKS = 10_000

from tests.bench.poll import (  # noqa: E402 - reads BENCH_INVERTERS
    FIRST_SERIAL,
    INVERTERS,
    LATENCY,
    ROOT,
    create_database,
    create_fleet,
    free_port,
    local_noon,
    wait_for_port,
)


def run_cycle(at):
    from django.conf import settings

    from devices import polling, tasks

    started = time.monotonic()
    ok = 0
    for batch in polling.batches(polling.due_logger_ids(), settings.POLL_BATCH_SIZE):
        ok += tasks.poll_batch.apply(args=(batch, at.isoformat())).get()
    return ok, time.monotonic() - started


def hub_rss_mb(pid):
    """The hub process's peak resident memory (VmHWM), in MB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0


def main():
    create_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from devices.models import Datalogger, Reading

    call_command("migrate", verbosity=0)
    from core.redisconn import redis_client
    from devices import hubregistry

    redis_client().delete(hubregistry.WHERE, hubregistry.HUBS)  # a previous run's hubs
    ports = [(free_port(), free_port()) for _ in range(HUBS)]
    create_fleet(0, reach="hub")
    manage = [sys.executable, "manage.py"]
    hubs = [
        subprocess.Popen(
            # Every simulated stick comes from 127.0.0.1: no per-address limit.
            [
                *manage,
                "run_logger_hub",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--relay-port",
                str(relay),
                "--max-per-address",
                str(INVERTERS),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for port, relay in ports
    ]
    shares = [
        (free_port(), FIRST_SERIAL + first, min(SIMULATOR_STICKS, INVERTERS - first))
        for first in range(0, INVERTERS, SIMULATOR_STICKS)
    ]
    simulators = []
    try:
        for (_port, relay), hub in zip(ports, hubs, strict=True):
            wait_for_port(relay, hub)
        # One simulator per 10,000 sticks (a process's descriptors), each spread over every hub.
        simulators = [
            subprocess.Popen(
                [
                    *manage,
                    "simulate_fleet",
                    "--count",
                    str(count),
                    "--first-serial",
                    str(first),
                    "--latency",
                    LATENCY,
                    "--v5-port",
                    str(port),
                    "--tcp-port",
                    str(free_port()),
                    "--call-in",
                    ",".join(f"127.0.0.1:{hub_port}" for hub_port, _relay in ports),
                    "--clock",
                    local_noon().isoformat(),
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            for port, first, count in shares
        ]
        for (port, _first, _count), simulator in zip(shares, simulators, strict=True):
            wait_for_port(port, simulator)
        deadline = time.monotonic() + 120
        while hubregistry.status(redis_client())["sticks"] < INVERTERS and time.monotonic() < deadline:
            time.sleep(1)  # every stick connects out to a hub, which registers it
        print(f"registered: {hubregistry.status(redis_client())}", flush=True)
        now = timezone.now()
        ok, cold = run_cycle(now)
        print(f"hub, cold cycle (identities read): {ok}/{INVERTERS} in {cold:.1f} s", flush=True)
        before = Reading.objects.count()
        hub_ok, hub_cycle = run_cycle(now + timedelta(minutes=5))
        hub_rows = Reading.objects.count() - before
        print(
            f"hub, steady cycle: {hub_ok}/{INVERTERS} in {hub_cycle:.1f} s; rows inserted: {hub_rows}",
            flush=True,
        )
        rss = [hub_rss_mb(hub.pid) for hub in hubs]
        for port, first, count in shares:
            Datalogger.objects.filter(
                serial_number__in=[str(serial) for serial in range(first, first + count)]
            ).update(reach="direct", host="127.0.0.1", port=port)
        before = Reading.objects.count()
        direct_ok, direct_cycle = run_cycle(now + timedelta(minutes=10))
        direct_rows = Reading.objects.count() - before
        print(f"direct, same sticks: {direct_ok}/{INVERTERS} in {direct_cycle:.1f} s; rows: {direct_rows}")
    finally:
        for process in (*simulators, *hubs):
            if process is not None:
                process.terminate()
                process.wait(10)
    print(
        f"hubs={HUBS} hub_sticks={hub_ok} hub_polls_per_s={hub_ok / hub_cycle:.0f} "
        f"hub_cycle_s={hub_cycle:.1f} "
        f"hub_vs_direct={hub_cycle / direct_cycle:.2f} hub_rss_mb={','.join(f'{r:.0f}' for r in rss)} "
        f"direct_polls_per_s={direct_ok / direct_cycle:.0f}"
    )


if __name__ == "__main__":
    main()
