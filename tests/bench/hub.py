"""Benchmark: one poll cycle of a fleet whose sticks all called in to one logger hub, against the same
cycle polled directly, in the same run.

Three processes besides this one: the simulator (`simulate_fleet --count N --call-in`, 200 ms latency
per answer, its clock fixed at local noon so that no inverter is asleep whatever the hour of the
run), the hub (`run_logger_hub`), and this poller, which runs every batch of the cycle as one Celery
worker process does, decoding and storing into PostgreSQL. Each measured cycle has its own
history slot, after a cold cycle that reads the identities. The direct figure polls the very same
simulated sticks on the simulator's V5 port. Last line:
hub_sticks=<n> hub_polls_per_s=<n> hub_cycle_s=<n> hub_rss_mb=<n> direct_polls_per_s=<n>
"""

import subprocess
import sys
import time
from datetime import timedelta

from tests.bench.poll import (
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
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from devices.models import Datalogger, Reading

    call_command("migrate", verbosity=0)
    v5_port, hub_port, relay_port = free_port(), free_port(), free_port()
    create_fleet(v5_port, reach="hub")
    settings.LOGGER_HUB_RELAY_PORT = relay_port
    manage = [sys.executable, "manage.py"]
    hub = subprocess.Popen(
        [
            *manage,
            "run_logger_hub",
            "--host",
            "127.0.0.1",
            "--port",
            str(hub_port),
            "--relay-port",
            str(relay_port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    simulator = None
    try:
        wait_for_port(relay_port, hub)
        simulator = subprocess.Popen(
            [*manage, "simulate_fleet", "--count", str(INVERTERS), "--first-serial", str(FIRST_SERIAL),
             "--latency", LATENCY, "--v5-port", str(v5_port), "--tcp-port", str(free_port()),
             "--call-in", f"127.0.0.1:{hub_port}", "--clock", local_noon().isoformat()],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(v5_port, simulator)
        time.sleep(max(5, INVERTERS / 1000))  # every stick connects out to the hub
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
        rss = hub_rss_mb(hub.pid)
        Datalogger.objects.update(reach="direct", host="127.0.0.1", port=v5_port)
        before = Reading.objects.count()
        direct_ok, direct_cycle = run_cycle(now + timedelta(minutes=10))
        direct_rows = Reading.objects.count() - before
        print(f"direct, same sticks: {direct_ok}/{INVERTERS} in {direct_cycle:.1f} s; rows: {direct_rows}")
    finally:
        for process in (simulator, hub):
            if process is not None:
                process.terminate()
                process.wait(10)
    print(
        f"hub_sticks={hub_ok} hub_polls_per_s={hub_ok / hub_cycle:.0f} hub_cycle_s={hub_cycle:.1f} "
        f"hub_rss_mb={rss:.0f} direct_polls_per_s={direct_ok / direct_cycle:.0f}"
    )


if __name__ == "__main__":
    main()
