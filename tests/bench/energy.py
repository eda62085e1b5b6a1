"""Benchmark: the beat's energy refresh over 10,000 plants with a day of readings each.

`make bench-energy`. Its own database (aura_bench_energy). Every plant has one inverter with 20 hours
of 5-minute readings (2.4 million history rows, every column as a poll fills it). Measured in one run,
each after the one before it:
- energy_refresh_full_s: every plant's day computed from midnight (no stored tally: the first refresh
  after a deploy, and what each refresh cost before it was incremental) — the baseline;
- energy_refresh_s: five minutes later, one more reading for every plant: all 10,000 changed;
- energy_refresh_10pct_s: five minutes later, a reading for 1,000 plants only;
- energy_refresh_unchanged_s: nothing new (finding that out is the whole cost);
- energy_refresh_vs_full: energy_refresh_s / energy_refresh_full_s; energy_linear: energy_refresh_s /
  (10 × energy_refresh_10pct_s), 1.0 when the cost is linear in the plants that changed;
- energy_100k_plants_per_worker_s: what one worker spends per refresh at 100,000 plants that all changed
  (10 × energy_refresh_s; N workers divide it, the batches being independent Celery tasks).
Every batch is computed and stored (rows, months, flags), in this process, as one worker would.

Last line: energy_refresh_full_s=<n> energy_refresh_s=<n> energy_refresh_10pct_s=<n>
energy_refresh_unchanged_s=<n> energy_refresh_vs_full=<n> energy_linear=<n>
energy_100k_plants_per_worker_s=<n>
"""

import os
import time
from datetime import datetime, timedelta

PLANTS = int(os.environ.get("BENCH_PLANTS", 10_000))
SLOTS = 240  # 20 hours of 5-minute slots
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aura").rsplit("/", 1)[0]
os.environ["DATABASE_URL"] = f"{BASE_URL}/aura_bench_energy"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")


def create_database():
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS aura_bench_energy")
        conn.execute("CREATE DATABASE aura_bench_energy")


def add_readings(midnight, first, count, every=1):
    """Readings of slots first … first+count−1 for every `every`-th plant's inverter, counters rising
    through the day as a sunny day's do; the inverters' newest slot claimed, as a poll does."""
    from django.db import connection

    from tests.bench.web import INSERT_READINGS

    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_READINGS
            + """
            SELECT i.id, %(midnight)s + s * interval '5 minutes', 1500, 800, -300, -400, 600,
                s * 3, s * 2, s, s, s, s, 0, 0, 100000 + s, 50000 + s, 20000, 30000, 40000, 40000
            FROM devices_inverter i, generate_series(%(first)s, %(last)s) s
            WHERE i.id %% %(every)s = 0
            """,
            {"midnight": midnight, "first": first, "last": first + count - 1, "every": every},
        )
        cursor.execute(
            "UPDATE devices_inverter SET history_slot = %s WHERE id %% %s = 0",
            [midnight + timedelta(minutes=5 * (first + count - 1)), every],
        )
        cursor.execute("VACUUM ANALYZE")  # the statistics autovacuum keeps on a production database


def refresh_seconds(now):
    from energy.accounting import daily_energy_refresh

    started = time.monotonic()
    daily_energy_refresh(now=now)
    return time.monotonic() - started


def main():
    create_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from devices.partitions import reading_partitions_ensure
    from energy.models import DailyEnergy
    from tests.bench.web import seed_company

    call_command("migrate", verbosity=0)
    tz = timezone.get_default_timezone()
    midnight = datetime.combine(timezone.localdate(), datetime.min.time(), tz)
    seed_company("Energy", "energy", PLANTS, midnight)
    reading_partitions_ensure(first=midnight - timedelta(days=1), last=midnight + timedelta(days=1))
    started = time.monotonic()
    add_readings(midnight, 0, SLOTS)
    print(f"seeded {PLANTS} plants' day in {time.monotonic() - started:.0f} s", flush=True)
    DailyEnergy.objects.all().delete()  # the seed's month of rows: the refresh starts from nothing
    now = midnight + timedelta(minutes=5 * SLOTS + 1)
    figures = {"energy_refresh_full_s": refresh_seconds(now)}
    add_readings(midnight, SLOTS, 1)
    figures["energy_refresh_s"] = refresh_seconds(now + timedelta(minutes=5))
    add_readings(midnight, SLOTS + 1, 1, every=10)
    figures["energy_refresh_10pct_s"] = refresh_seconds(now + timedelta(minutes=10))
    figures["energy_refresh_unchanged_s"] = refresh_seconds(now + timedelta(minutes=11))
    figures["energy_refresh_vs_full"] = figures["energy_refresh_s"] / figures["energy_refresh_full_s"]
    figures["energy_linear"] = figures["energy_refresh_s"] / (10 * figures["energy_refresh_10pct_s"])
    figures["energy_100k_plants_per_worker_s"] = 100_000 / PLANTS * figures["energy_refresh_s"]
    print(" ".join(f"{name}={value:.2f}" for name, value in figures.items()))


if __name__ == "__main__":
    main()
