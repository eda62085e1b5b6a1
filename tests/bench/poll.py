"""Benchmark: poll a 10,000-inverter fleet through the simulator, as one worker process would.

The simulator runs in its own process (`manage.py simulate_fleet`) with 200 ms latency on every
reply and its clock fixed at today's local noon (no inverter asleep, whatever the hour of the run);
this process runs the poll-batch task for every batch of a cycle, one after the other, as a single
Celery worker process does, decoding and storing into PostgreSQL (database `aura_bench`). The first
cycle also reads identities and creates the inverters; the second, in its own history slot, is the
steady state that is measured, with the rows it really inserted. In the same run, a bare client
loop (pysolarmanv5's async client, same concurrency, same three blocks, no decode, no storage) reads
the same simulator, so that the portal's overhead is a ratio; the two alternate, twice each, each
portal cycle in a slot of its own, and the better run of each is kept. The last line reads:
polls_per_s=<n> bare_polls_per_s=<n> overhead_ratio=<n> cycle_s=<n> rows_inserted=<n> peak_rss_mb=<n>
inverter_hot_update_pct=<n> live_hot_update_pct=<n> (the share of the row updates of the inverters'
and of their live values' tables made in place)
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
    from accounts.models import Company
    from devices.models import Datalogger
    from plants.models import BatteryModel, Plant, SystemType

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


def hot_updates():
    """{table: (updates, of which HOT)} of the inverters' and their live values' tables so far."""
    from django.db import connection

    time.sleep(1)  # the statistics are flushed at the end of each transaction, asynchronously
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname IN ('devices_inverter', 'devices_inverterlive')"
        )
        return {table: (updates, hot) for table, updates, hot in cursor.fetchall()}


def hot_pct(before, after, table):
    updates, hot = (a - b for a, b in zip(after[table], before[table], strict=True))
    return 100 * hot / max(1, updates)


def run_cycle(cycle_at):
    """One cycle of the whole fleet into the history slot of `cycle_at`: (ok polls, seconds, rows)."""
    from django.conf import settings

    from devices import polling, tasks
    from devices.models import Reading

    started = time.monotonic()
    ok = 0
    for batch in polling.batches(polling.due_logger_ids(), settings.POLL_BATCH_SIZE):
        ok += tasks.poll_batch.apply(args=(batch, cycle_at.isoformat())).get()
    seconds = time.monotonic() - started
    return ok, seconds, Reading.objects.filter(slot=polling.history_slot(cycle_at)).count()


def bare_cycle(port):
    """The same three blocks of every logger read by pysolarmanv5's async client alone, with the
    portal's concurrency: no lock, no decode, no storage. Returns (loggers fully read, seconds)."""
    import asyncio

    from django.conf import settings
    from pysolarmanv5 import PySolarmanV5Async

    from devices.registermap import LIVE_PLAN

    async def read(serial, gate):
        async with gate:
            client = PySolarmanV5Async("127.0.0.1", serial, port=port, mb_slave_id=1, socket_timeout=10)
            try:
                await client.connect()
                for block in LIVE_PLAN:
                    await client.read_input_registers(block.start, block.count)
                return True
            except Exception:
                return False
            finally:
                await client.disconnect()

    async def everyone():
        gate = asyncio.Semaphore(settings.POLL_CONCURRENCY)
        return await asyncio.gather(*(read(FIRST_SERIAL + i, gate) for i in range(INVERTERS)))

    started = time.monotonic()
    ok = sum(asyncio.run(everyone()))
    return ok, time.monotonic() - started


def local_noon():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/Paris")).replace(hour=12, minute=0, second=0, microsecond=0)


def main():
    create_database()
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    port = free_port()
    create_fleet(port)
    simulator = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_fleet", "--count", str(INVERTERS), "--first-serial",
         str(FIRST_SERIAL), "--latency", LATENCY, "--v5-port", str(port), "--tcp-port", str(free_port()),
         "--clock", local_noon().isoformat()],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    slot = timezone.now() - timedelta(hours=1)  # slots of their own, an hour back
    try:
        wait_for_port(port, simulator)
        ok, cold, _rows = run_cycle(slot)
        print(f"cold cycle (identities read): {ok}/{INVERTERS} in {cold:.1f} s", flush=True)
        before = hot_updates()
        # The portal and the bare client in turn, twice each, the better of each pair kept: the
        # simulator shares the two cores, and a single run of either varies by up to 20 %.
        portal_runs, bare_runs = [], []
        for run in range(2):
            ok, cycle, rows = run_cycle(slot + timedelta(minutes=5 * (run + 1)))
            print(f"steady cycle: {ok}/{INVERTERS} in {cycle:.1f} s; rows inserted: {rows}", flush=True)
            portal_runs.append((ok / cycle, cycle, rows))
            bare_ok, bare = bare_cycle(port)
            print(f"bare client: {bare_ok}/{INVERTERS} in {bare:.1f} s", flush=True)
            bare_runs.append(bare_ok / bare)
        after = hot_updates()
    finally:
        simulator.terminate()
        simulator.wait(10)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (polls, cycle, rows), bare_polls = max(portal_runs), max(bare_runs)
    print(
        f"polls_per_s={polls:.0f} bare_polls_per_s={bare_polls:.0f} overhead_ratio={bare_polls / polls:.2f} "
        f"cycle_s={cycle:.1f} rows_inserted={rows} peak_rss_mb={rss:.0f} "
        f"inverter_hot_update_pct={hot_pct(before, after, 'devices_inverter'):.0f} "
        f"live_hot_update_pct={hot_pct(before, after, 'devices_inverterlive'):.0f}"
    )


if __name__ == "__main__":
    main()
