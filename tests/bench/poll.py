"""Benchmark: poll a 10,000-inverter fleet through the simulator, as one worker process would.

The simulator runs in its own process (`manage.py simulate_fleet`) with 200 ms latency on every
reply; this process runs the poll-batch task for every batch of a cycle, one after the other, as a
single Celery worker process does, decoding and storing into PostgreSQL (database `aura_bench`).
The first cycle also reads identities and creates the inverters; the second is the steady state
that is measured. The last line reads: polls_per_s=<n> cycle_s=<n> peak_rss_mb=<n>
"""

import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INVERTERS = int(os.environ.get("BENCH_INVERTERS", 10_000))
LATENCY = os.environ.get("BENCH_LATENCY", "0.2")
FIRST_SERIAL = 3_000_000_000
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aura").rsplit("/", 1)[0]
os.environ["DATABASE_URL"] = f"{BASE_URL}/aura_bench"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("POLL_BATCH_SIZE", "2500")
os.environ.setdefault("POLL_CONCURRENCY", "1000")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"simulator exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("simulator did not start")


def create_database():
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS aura_bench")
        conn.execute("CREATE DATABASE aura_bench")


def create_fleet(port, reach="direct"):
    from devices.models import Datalogger
    from plants.models import BatteryModel, Plant, SystemType
    from portal.models import Company

    company = Company.objects.create(name="Bench", address="-", mobile_phone="-", email="b@b.fr")
    plants = Plant.objects.bulk_create(
        Plant(
            company=company,
            name=f"Plant {i}",
            address="-",
            postcode="-",
            city="-",
            pv_power_kwp=6,
            system_type=SystemType.DC,
            battery_model=BatteryModel.AURA_10,
        )
        for i in range(INVERTERS // 10)
    )
    Datalogger.objects.bulk_create(
        (
            Datalogger(
                plant=plants[i // 10],
                serial_number=str(FIRST_SERIAL + i),
                reach=reach,
                host="127.0.0.1" if reach == "direct" else "",
                port=port,
            )
            for i in range(INVERTERS)
        ),
        batch_size=2000,
    )


def run_cycle():
    from django.conf import settings
    from django.utils import timezone

    from devices import polling, tasks

    cycle_at = timezone.now().isoformat()
    started = time.monotonic()
    ok = 0
    for batch in polling.batches(polling.due_logger_ids(), settings.POLL_BATCH_SIZE):
        ok += tasks.poll_batch.apply(args=(batch, cycle_at)).get()
    return ok, time.monotonic() - started


def main():
    create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    port = free_port()
    create_fleet(port)
    simulator = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "simulate_fleet",
            "--count",
            str(INVERTERS),
            "--first-serial",
            str(FIRST_SERIAL),
            "--latency",
            LATENCY,
            "--v5-port",
            str(port),
            "--tcp-port",
            str(free_port()),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, simulator)
        ok, cold = run_cycle()
        print(f"cold cycle (identities read): {ok}/{INVERTERS} in {cold:.1f} s", flush=True)
        from devices.models import Reading

        ok, cycle = run_cycle()
        print(f"steady cycle: {ok}/{INVERTERS} in {cycle:.1f} s; readings stored: {Reading.objects.count()}")
    finally:
        simulator.terminate()
        simulator.wait(10)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"polls_per_s={ok / cycle:.0f} cycle_s={cycle:.1f} peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
