"""Benchmark: the dashboards at fleet scale, through real HTTP to gunicorn (DEBUG off).

Seeds database `aura_bench_web`: 10,000 plants of one company, each with a logger and an inverter with
live values and this month's daily energy; 300 active and 20,000 cleared alarms; one plant with a year
of 5-minute readings (~105,000 rows), whose daily energy is computed by the portal's own accounting.
A second company of 100 plants, alike plant for plant and with as many alarms (98 of them active), is
the baseline of the fleet pages' cost. The beat's fleet figures (power and energy per company, that the
fleet home reads, and each plant's, that the fleet table sorts by) are computed first, as every minute
in production, and that run is timed (fleet_figures_refresh_ms).
Then times sequential requests of one logged-in installer (after a few unmeasured warm-up requests per
page: gunicorn imports, PostgreSQL plans; no application cache exists to warm) to the fleet home, the
plant list and the plant API list (alternating with the small company's installer: `<page>_vs_small`
is the ratio of their p95), the plant dashboard, the year chart's JSON and the fleet alarm list, and
counts the SQL queries of the fleet home; the plant list sorted by today's production (`fleet_table`,
against the small company's); a name search in the plant list and a logger's "move"
page (each against the small company's); the year of readings as CSV through gunicorn (rows/s,
beside the Python writer's rows/s over the same rows in this process), and the fleet home's p95
while two slow clients download that year again and again (gunicorn runs with
deploy/gunicorn.conf.py, threads). The last line reads:
fleet_home_p95_ms=<n> fleet_home_vs_small=<n> plant_list_p95_ms=<n> plant_list_vs_small=<n>
fleet_table_p95_ms=<n> fleet_table_vs_small=<n>
plant_list_last_page_p95_ms=<n> plant_list_last_page_vs_small=<n>
plant_api_p95_ms=<n> plant_api_vs_small=<n> plant_dashboard_p95_ms=<n> year_chart_p95_ms=<n>
alarm_list_p95_ms=<n> healthz_p95_ms=<n> plant_list_8c_p95_ms=<n> alarm_export_ms=<n>
plant_search_p95_ms=<n> plant_search_vs_small=<n> logger_move_p95_ms=<n> logger_move_vs_small=<n>
readings_export_rows_per_s=<n> readings_export_python_rows_per_s=<n>
fleet_home_p95_during_exports_ms=<n> fleet_home_queries=<n> fleet_figures_refresh_ms=<n>
bytes_per_million_readings=<n> bytes_per_million_readings_ended=<n> energy_refresh_s=<n>
energy_refresh_full_s=<n>
The last two are `make bench-energy`'s (the beat's energy refresh at 10,000 plants with a day of
readings each, and its baseline from midnight), run at the end in its own database.
"""

import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from faker import Faker

from tests.bench.poll import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
PLANTS = int(os.environ.get("BENCH_PLANTS", 10_000))
SMALL_PLANTS = 100  # the fleet whose pages the large one's should cost as much as (±20 %)
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 60))
WARM_UP = 5
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aura").rsplit("/", 1)[0]
os.environ["DATABASE_URL"] = f"{BASE_URL}/aura_bench_web"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,testserver")
# Every history column, as a poll fills them (tenths of kWh and of % as stored).
INSERT_READINGS = """
    INSERT INTO devices_reading (inverter_id, slot, pv_power, load_power, grid_power, battery_power,
        battery_soc, pv_energy_today, load_energy_today, grid_import_today, grid_export_today,
        battery_charge_today, battery_discharge_today, warning_bits, fault_bits, pv_energy_total,
        load_energy_total, grid_import_total, grid_export_total, battery_charge_total,
        battery_discharge_total)
"""


def create_database():
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS aura_bench_web")
        conn.execute("CREATE DATABASE aura_bench_web")


def seed():
    """Two companies: one of PLANTS plants and one of SMALL_PLANTS, alike plant for plant and with as
    many alarms each, so that their pages' costs compare; returns (the large company's installer, the
    small one's, a plant of the large one with a year of readings)."""
    from django.db import connection
    from django.utils import timezone

    from energy.accounting import monthly_energy_update
    from monitoring.status import plant_status_refresh
    from plants.models import Plant

    now = timezone.now()
    installer = seed_company("Bench", "bench", PLANTS, now)
    small_installer = seed_company("Small", "small", SMALL_PLANTS, now)
    plant_status_refresh(Plant.objects.all())  # as the polls and services keep it
    every_plant = list(Plant.objects.values_list("pk", flat=True))
    monthly_energy_update(plant_ids=every_plant, month=timezone.localdate().replace(day=1), now=now)
    plant = Plant.objects.filter(company=installer.company, dataloggers__isnull=False).order_by("pk").first()
    seed_year_of_readings(plant, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the statistics autovacuum keeps on a production database
    return installer, small_installer, plant


def seed_company(name, username, plants, now):
    """A company of `plants` plants, in set-based SQL where the rows are many; returns its installer."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Company, User
    from plants.models import BatteryModel, Plant, SystemType

    company = Company.objects.create(name=name, address="-", mobile_phone="-", email=f"{username}@b.fr")
    installer = User.objects.create_user(username, password="-", role=User.Role.INSTALLER, company=company)
    # Names and addresses as customers have them (French, varied, the same each run): a name search's
    # trigrams are as selective as in a real fleet, not shared by every "Plant 0…".
    fake = Faker("fr_FR")
    fake.seed_instance(plants)
    Plant.objects.bulk_create(
        (
            Plant(company=company, name=f"{fake.last_name()} {fake.first_name()} {i}",
                  address=fake.street_address(), postcode=fake.postcode(), city=fake.city(), pv_power_kwp=6,
                  system_type=SystemType.DC,
                  battery_model=BatteryModel.AURA_10, created_at=now - timedelta(days=400))
            for i in range(plants)
        ),
        batch_size=2000,
    )  # fmt: skip
    with connection.cursor() as cursor:
        # One logger and one inverter per plant; 2 % incomplete, 5 % offline, 3 % partially offline.
        cursor.execute(
            """
            INSERT INTO devices_datalogger (plant_id, serial_number, protocol, reach, host, port, unit_id,
                status, last_seen_at, last_polled_at, missed_polls, last_error, created_at,
                inverter_serial_seen)
            SELECT p.id, (3000000000 + p.id)::text, 'solarman_v5', 'direct', '127.0.0.1', 8899, 1,
                CASE WHEN p.id %% 100 < 5 THEN 'offline' ELSE 'online' END, %s, %s, 0, NULL, %s,
                'KS' || (3000000000 + p.id)::text
            FROM plants_plant p WHERE p.id %% 100 >= 2 AND p.company_id = %s
            """,
            [now, now, now, company.pk],
        )
        cursor.execute(
            """
            INSERT INTO devices_inverter (datalogger_id, serial_number, model_name, battery_name,
                firmware_arm, firmware_dsp, rated_power_w, status, last_seen_at, grid_sign_check,
                first_seen_at)
            SELECT d.id, 'KS' || d.serial_number, 'BluE-S 6000D', 'AURA 10KM-BG', '1.2.3', '2.0.7', 6000,
                CASE WHEN d.plant_id %% 100 < 8 THEN 'offline' ELSE 'online' END, %s, '{}'::jsonb, %s
            FROM devices_datalogger d JOIN plants_plant p ON p.id = d.plant_id WHERE p.company_id = %s
            """,
            [now, now - timedelta(days=400), company.pk],
        )
        cursor.execute(
            """
            INSERT INTO devices_inverterlive (inverter_id, values, at)
            SELECT i.id, jsonb_build_object('pv_power', 2000 + i.datalogger_id %% 3000, 'load_power', 900,
                    'grid_power', -400, 'battery_power', -700, 'battery_soc', 55.0, 'pv_energy_today', 12.3,
                    'load_energy_today', 8.1, 'grid_import_today', 1.2, 'grid_export_today', 4.4), %s
            FROM devices_inverter i JOIN devices_datalogger d ON d.id = i.datalogger_id
            JOIN plants_plant p ON p.id = d.plant_id WHERE p.company_id = %s
            """,
            [now, company.pk],
        )
        # This month's daily energy of every plant.
        today = timezone.localdate()
        cursor.execute(
            """
            INSERT INTO energy_dailyenergy (plant_id, company_id, day, production_wh, consumption_wh,
                grid_export_wh, grid_import_wh, battery_charge_wh, battery_discharge_wh, slots_with_data,
                slots_expected, computed_at)
            SELECT p.id, p.company_id, day::date, 20000 + p.id %% 5000, 11000, 8000, 2000, 6000, 5500,
                288, 288, %s
            FROM plants_plant p, generate_series(%s::date, %s::date, '1 day') AS day
            WHERE p.company_id = %s
            """,
            [now, today.replace(day=1), today, company.pk],
        )
        # 20,300 alarms over the company's first 9,000 loggers, 300 of them active (or one per device
        # in a smaller fleet: one open alarm per device and code).
        cursor.execute(
            """
            WITH devices AS (
                SELECT d.id, d.plant_id, i.id AS inverter_id, row_number() OVER (ORDER BY d.id) - 1 AS k
                FROM devices_datalogger d JOIN devices_inverter i ON i.datalogger_id = d.id
                JOIN plants_plant p ON p.id = d.plant_id WHERE p.company_id = %s
            )
            INSERT INTO alarms_alarm (plant_id, datalogger_id, inverter_id, code_id, severity, started_at,
                cleared_at, note, notified_at, emailed, raised_at, times_raised, in_maintenance, resolution,
                status)
            SELECT d.plant_id, d.id, d.inverter_id, CASE WHEN n %% 3 = 0 THEN 'F13' ELSE 'W04' END,
                CASE WHEN n %% 3 = 0 THEN 1 ELSE 3 END,
                %s - (n || ' minutes')::interval,
                CASE WHEN n < least(300, (SELECT count(*) FROM devices)) THEN NULL
                    ELSE %s - (n || ' minutes')::interval + interval '20 minutes' END,
                '', %s, false, %s - (n || ' minutes')::interval, 1, false, '',
                CASE WHEN n < least(300, (SELECT count(*) FROM devices)) THEN 'new' ELSE 'resolved' END
            FROM generate_series(0, 20299) AS n
            JOIN devices d ON d.k = n %% least(9000, (SELECT count(*) FROM devices))
            """,
            [company.pk, now, now, now, now],
        )
    return installer


def seed_year_of_readings(plant, now):
    """A year of 5-minute readings for one plant's inverter, every column filled as a poll fills it
    (day counters that reset at midnight, lifetime totals that grow; tenths of kWh, as stored), then its
    daily energy computed by the portal's own accounting, day by day."""
    from django.db import connection

    from devices.partitions import reading_partitions_ensure
    from energy.accounting import daily_energy_compute, local_today

    inverter = plant.dataloggers.get().inverters.get()
    reading_partitions_ensure(first=now - timedelta(days=366), last=now)
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_READINGS
            + """
            SELECT %s, slot, 3000, 900, -400, -700, 550, m / 6, m / 9, m / 40, m / 20, m / 30, m / 35, 0, 0,
                n * 2, n, n / 4, n / 2, n / 30, n / 35
            FROM generate_series(date_trunc('hour', %s::timestamptz) - interval '365 days',
                                 %s::timestamptz, '5 minutes') AS slot,
                LATERAL (SELECT extract(epoch FROM (slot AT TIME ZONE 'Europe/Paris')::time) / 60 AS m,
                                extract(epoch FROM slot) / 3600 - 480000 AS n) AS t
            """,
            [inverter.pk, now, now],
        )
    today = local_today(plant, now)
    started = time.monotonic()
    for days_ago in range(366):
        daily_energy_compute(plants=[plant], day=today - timedelta(days=days_ago), now=now)
    print(f"a year of daily energy computed from readings in {time.monotonic() - started:.1f} s", flush=True)


def session_cookie(user):
    from django.test import Client

    client = Client()
    client.force_login(user, backend="accounts.backends.ActiveCompanyBackend")
    return f"sessionid={client.cookies['sessionid'].value}"


def p95_ms(port, path, cookie, ok=(200,)):
    return statistics.quantiles(timings(port, path, cookie, ok=ok), n=20)[-1]


def timings(port, path, cookie, *, warm_up=WARM_UP, requests=REQUESTS, ok=(200,)):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for i in range(warm_up + requests):
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html,application/json"})
        response = conn.getresponse()
        response.read()
        if response.status not in ok:
            raise SystemExit(f"GET {path}: {response.status}")
        if i >= warm_up:
            times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return times


def healthz_p95_ms(port, cookie):
    """/healthz as monitoring sees it on a running portal: a worker's heartbeat and a poll cycle
    written just before (no worker nor beat runs here; the loggers are reached directly, so no hub
    is expected), so that the answer is 200, every check run."""
    from core.heartbeat import poll_cycle_sent, worker_heartbeat

    worker_heartbeat("bench@web")
    poll_cycle_sent()
    return p95_ms(port, "/healthz", cookie)


def paired_p95_ms(port, path, cookie, small_cookie, small_path=None):
    """p95 of `path` for the large company's installer and for the small one's (`small_path`, when
    theirs differs), their requests alternating (so that both see the same machine load); more
    requests than elsewhere, as the ratio of two tails is noisier than one tail."""
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(2)]
    times = ([], [])
    paths = (path, small_path or path)
    for i in range(WARM_UP + 4 * REQUESTS):
        for conn, who, runs, asked in zip(conns, (cookie, small_cookie), times, paths, strict=True):
            started = time.perf_counter()
            conn.request("GET", asked, headers={"Cookie": who, "Accept": "text/html,application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"GET {asked}: {response.status}")
            if i >= WARM_UP:
                runs.append((time.perf_counter() - started) * 1000)
    for conn in conns:
        conn.close()
    return tuple(statistics.quantiles(runs, n=20)[-1] for runs in times)


def concurrent_p95_ms(port, path, cookie, clients=8):
    """p95 of `clients` sequential request loops running at once (threads: the waiting is on sockets)."""
    with ThreadPoolExecutor(clients) as pool:
        runs = list(pool.map(lambda _: timings(port, path, cookie), range(clients)))
    return statistics.quantiles([t for run in runs for t in run], n=20)[-1]


def readings_export(port, cookie, plant):
    """The plant's year of readings as CSV through the web server: (rows per second, the same rows per
    second by the Python writer that built it before PostgreSQL did, in this process). The two
    alternate, twice each, and the better run of each is kept (both then read a cached history)."""
    from django.utils import timezone, translation

    from tests.readings_reference import python_lines

    last = timezone.localdate()
    first = last - timedelta(days=365)
    copy_rates, python_rates = [], []
    for _ in range(2):
        started = time.perf_counter()
        rows = download(port, readings_path(plant, first, last), cookie).count(b"\n") - 1
        copy_rates.append(rows / (time.perf_counter() - started))
        started = time.perf_counter()
        with translation.override("fr"):
            rows = python_lines(plant, first, last).count(b"\n") - 1
        python_rates.append(rows / (time.perf_counter() - started))
    return max(copy_rates), max(python_rates)


def search_path(user):
    from urllib.parse import urlencode

    from plants.models import Plant

    plants = Plant.objects.filter(company=user.company).order_by("pk")
    return "/plants/?" + urlencode({"q": plants[plants.count() // 2].name})


def move_path(user):
    from devices.models import Datalogger

    logger = Datalogger.objects.filter(plant__company=user.company).order_by("pk").first()
    return f"/plants/{logger.plant_id}/dataloggers/{logger.pk}/move/"


def readings_path(plant, first, last):
    return f"/plants/{plant.pk}/readings.csv?start={first}&end={last}"


def download(port, path, cookie, *, chunk=65536, pause=0.0):
    """GET `path` whole, `chunk` bytes at a time with `pause` seconds between reads (a slow phone)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "fr"})
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"GET {path}: {response.status}")
    parts = []
    while part := response.read(chunk):
        parts.append(part)
        time.sleep(pause)
    conn.close()
    return b"".join(parts)


def fleet_home_p95_during_exports_ms(port, cookie, plant, exports=2):
    """The fleet home's p95 while `exports` clients download the plant's year of readings, each slowly
    (64 KB every 50 ms), again and again until the measurement ends."""
    from django.utils import timezone

    last = timezone.localdate()
    path = readings_path(plant, last - timedelta(days=365), last)
    done = threading.Event()

    def export_forever():
        while not done.is_set():
            download(port, path, cookie, pause=0.05)

    with ThreadPoolExecutor(exports) as pool:
        running = [pool.submit(export_forever) for _ in range(exports)]
        time.sleep(1)  # both downloads under way
        try:
            return p95_ms(port, "/", cookie)
        finally:
            done.set()
            for future in running:
                future.result()


def bytes_per_million_readings(inverters=350, days=10):
    """Disk per million readings as polls write them: every inverter's row slot after slot (so the
    (inverter, bucket) index splits as it does in production), every column filled, into next
    month's partition, empty until then. Heap, indexes, free-space and visibility maps, after the
    vacuum that autovacuum would run; then again once the month has ended and that index was
    rebuilt."""
    from django.db import connection

    from devices.models import Inverter
    from devices.partitions import (
        add_months,
        month_of,
        partition_name,
        reading_partitions_compact,
        reading_partitions_ensure,
    )

    month = add_months(month_of(datetime.now(UTC)), 1)
    reading_partitions_ensure(first=month, last=month)
    ids = list(Inverter.objects.order_by("pk").values_list("pk", flat=True)[:inverters])
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_READINGS
            + """
            SELECT i, slot, 3000 + i, 900, -400, -700, 550, 120, 80, 20, 40, 30, 25, 0, 0,
                40000 + i, 20000, 5000, 10000, 700, 600
            FROM generate_series(%s::timestamptz, %s::timestamptz - interval '5 minutes', '5 minutes')
                AS slot, unnest(%s::bigint[]) AS i
            ORDER BY slot, i
            """,
            [month, month + timedelta(days=days), ids],
        )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {partition_name(month)}")
    written = partition_bytes_per_million(partition_name(month))
    # Once that month has ended, the daily maintenance rebuilds its index.
    reading_partitions_compact(now=add_months(month, 2))
    return written, partition_bytes_per_million(partition_name(month))


def partition_bytes_per_million(name):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_total_relation_size('{name}'), count(*) FROM {name}")
        size, rows = cursor.fetchone()
    return size / rows * 1_000_000


def fleet_figures_refresh_ms():
    """The beat's fleet figures (power, production today and this month) of every company, once."""
    from monitoring.fleet import fleet_figures_refresh

    started = time.perf_counter()
    fleet_figures_refresh()
    return (time.perf_counter() - started) * 1000


def fleet_home_queries(user):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user, backend="accounts.backends.ActiveCompanyBackend")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    return len(queries)


def main():
    create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    installer, small_installer, plant = seed()
    print(f"seeded {PLANTS} + {SMALL_PLANTS} plants in {time.monotonic() - started:.0f} s", flush=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-c", "deploy/gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "/dev/null", "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"},
    )  # fmt: skip
    try:
        wait_for_port(port, server)
        cookie, small_cookie = session_cookie(installer), session_cookie(small_installer)
        refresh_ms = fleet_figures_refresh_ms()  # the beat's minute work, that the fleet home reads
        # Counted while the figures are as fresh as the beat keeps them (later, a slow run would find
        # them stale and count the page's own recomputation).
        queries = fleet_home_queries(installer)
        figures = {}
        pages = (
            ("fleet_home", "/"),
            ("plant_list", "/plants/"),
            ("fleet_table", "/plants/?sort=-today"),  # the list sorted by today's production
            ("plant_api", "/api/v1/plants/"),
        )
        for name, path in pages:
            large, small = paired_p95_ms(port, path, cookie, small_cookie)
            figures[f"{name}_p95_ms"] = large
            figures[f"{name}_vs_small"] = large / small
        # Each company's last page of the plant list (25 a page), read from the list's end.
        large, small = paired_p95_ms(
            port,
            f"/plants/?page={-(-PLANTS // 25)}",
            cookie,
            small_cookie,
            f"/plants/?page={-(-SMALL_PLANTS // 25)}",
        )
        figures["plant_list_last_page_p95_ms"] = large
        figures["plant_list_last_page_vs_small"] = large / small
        figures |= {
            "plant_dashboard_p95_ms": p95_ms(port, f"/plants/{plant.pk}/", cookie),
            "year_chart_p95_ms": p95_ms(port, f"/api/v1/plants/{plant.pk}/energy/?period=year", cookie),
            "alarm_list_p95_ms": p95_ms(port, "/alarms/", cookie),
            "healthz_p95_ms": healthz_p95_ms(port, cookie),
            "plant_list_8c_p95_ms": concurrent_p95_ms(port, "/plants/", cookie),
            # The whole history (20,300 alarms), streamed: the slowest of three downloads.
            "alarm_export_ms": max(timings(port, "/alarms/export.csv", cookie, warm_up=0, requests=3)),
        }
        # A name search as an installer types one: a plant's whole name, one match in either fleet.
        large, small = paired_p95_ms(
            port, search_path(installer), cookie, small_cookie, search_path(small_installer)
        )
        figures["plant_search_p95_ms"], figures["plant_search_vs_small"] = large, large / small
        # The "move this logger" page of a plant of each company: its plant picker is a search field.
        large, small = paired_p95_ms(
            port, move_path(installer), cookie, small_cookie, move_path(small_installer)
        )
        figures["logger_move_p95_ms"], figures["logger_move_vs_small"] = large, large / small
        figures["readings_export_rows_per_s"], figures["readings_export_python_rows_per_s"] = readings_export(
            port, cookie, plant
        )
        figures["fleet_home_p95_during_exports_ms"] = fleet_home_p95_during_exports_ms(port, cookie, plant)
    finally:
        server.terminate()
        server.wait(10)
    figures["fleet_home_queries"] = queries
    figures["fleet_figures_refresh_ms"] = refresh_ms
    written, ended = bytes_per_million_readings()
    figures["bytes_per_million_readings"] = written
    figures["bytes_per_million_readings_ended"] = ended
    figures |= energy_refresh()
    print(" ".join(f"{name}={value:.{decimals(name, value)}f}" for name, value in figures.items()))


def energy_refresh():
    """The beat's energy refresh at 10,000 plants with a day of readings each, beside its baseline (each
    plant's day from midnight): `make bench-energy` run whole in its own database, its figures taken
    from its last line."""
    run = subprocess.run(
        [sys.executable, "-m", "tests.bench.energy"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    print(run.stdout, end="", flush=True)
    figures = dict(pair.split("=") for pair in run.stdout.strip().splitlines()[-1].split())
    return {name: float(figures[name]) for name in ("energy_refresh_s", "energy_refresh_full_s")}


def decimals(name, value):
    """Ratios to the hundredth; other figures whole from 10 up, else to the tenth."""
    return 2 if name.endswith("_vs_small") else 0 if value >= 10 or isinstance(value, int) else 1


if __name__ == "__main__":
    main()
