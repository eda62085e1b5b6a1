"""make soak: a few minutes of everything going wrong, then an account of what was lost (not in CI).

A fleet of simulated sticks (in this process, on a real socket) answers with 5 % garbage, 5 % drops,
5 % timeouts and 5 % Modbus exceptions; fault F13 rises and clears on each inverter on a schedule.
Two real Celery workers poll it through their own Redis server: this process sends a poll cycle every
few seconds (each in a history slot of its own) and the alarm outbox sweep, SIGKILLs a whole worker
at random moments (and starts it again), restarts Redis once and the simulator once. Then it waits
for the queues to drain and counts, from the workers' logs and the database:

- polls: polls the workers reported as read (each task counted once, redelivered or not);
- readings_lost: of those, readings not in the database (a task said it read them, no row);
- readings_duplicated: history rows for the same inverter and slot beyond the first;
- alarms_expected: runs of stored readings showing F13 between readings without it (each one alarm);
- alarms_opened: F13 alarms opened (duplicate_open_alarms: the same alarm open twice at once);
- unnotified_alarms: alarms whose e-mail was never handled after the drain;
- worker_crashes_survived: SIGKILLs after which polling went on.
"""

import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.bench.poll import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("SOAK_SECONDS", 240))
LOGGERS = int(os.environ.get("SOAK_LOGGERS", 60))
CYCLE = 5  # seconds between poll cycles
BATCH = 15
WINDOW = 30  # F13 is up for one window in three on each inverter
FIRST_SERIAL = 3_100_000_000
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aura").rsplit("/", 1)[0]
REDIS_PORT = free_port()
WORK = Path(tempfile.mkdtemp(prefix="aura-soak-"))
os.environ.update(
    DATABASE_URL=f"{BASE_URL}/aura_soak",
    DJANGO_SETTINGS_MODULE="portal.settings",
    REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
    CELERY_TASK_ALWAYS_EAGER="0",
    CELERY_VISIBILITY_TIMEOUT="20",  # a dead worker's task comes back within the run
    DEVICE_TIMEOUT_SECONDS="1",
    DEVICE_RETRIES="1",
    DEVICE_REQUEST_GAP_SECONDS="0",
    EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",  # into the workers' logs
)
SUCCEEDED = re.compile(r"Task devices\.tasks\.poll_batch\[([0-9a-f-]+)\] succeeded in [0-9.e-]+s: (\d+)")


def _f13_word():
    from devices.registermap import alarm_word

    return alarm_word(["F13"], "F")


def f13_up(index, moment):
    return (int(moment // WINDOW) + index) % 3 == 0


class Services:
    """Redis, the simulator and the two workers, each killed and started again on demand."""

    def __init__(self):
        from devices.simulator import FleetSimulator, SimulatedInverter

        self.redis = None
        self.v5_port = free_port()
        self.devices = [
            SimulatedInverter(FIRST_SERIAL + i, f"AU{i:09d}", latitude=0.0, longitude=0.0)
            for i in range(LOGGERS)
        ]
        self.noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
        self.simulator_class = FleetSimulator
        self.simulator = None
        self.fault_rate = 0.0  # faults start once every inverter is identified (see warm_up)
        self.workers = [None, None]
        self.logs = []

    def start_redis(self):
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(REDIS_PORT, self.redis)

    def start_simulator(self):
        from devices.simulator import SimulatorThread

        simulator = self.simulator_class(clock=lambda: self.noon, fault_rate=self.fault_rate)
        for device in self.devices:
            simulator.add_v5(device)
        self.simulator = SimulatorThread(simulator, v5_port=self.v5_port)
        self.simulator.__enter__()

    def stop_simulator(self):
        self.simulator.__exit__(None, None, None)

    def start_worker(self, n):
        log = WORK / f"worker{n}-{len(self.logs)}.log"
        self.logs.append(log)
        self.workers[n] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-c", "2", "-n",
             f"soak{n}-{len(self.logs)}@%h", "--loglevel", "INFO"],
            cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def kill_worker(self, n):
        os.killpg(self.workers[n].pid, signal.SIGKILL)
        self.workers[n].wait()

    def stop(self):
        for worker in self.workers:
            if worker and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(30)
        self.stop_simulator()
        self.redis.terminate()
        self.redis.wait(10)


def create_fleet(port):
    from accounts.models import Company, User
    from devices.models import Datalogger
    from monitoring.status import plant_status_refresh
    from plants.models import BatteryModel, Plant, SystemType

    company = Company.objects.create(name="Soak", address="-", mobile_phone="-", email="soak@example.fr")
    User.objects.create_user(
        "soak", email="soak@example.fr", password="-", role=User.Role.INSTALLER, company=company
    )
    # At the equator's noon meridian of the simulator's fixed clock: never "plausibly night".
    plants = Plant.objects.bulk_create(
        Plant(company=company, name=f"Soak {i}", address="-", postcode="-", city="-", pv_power_kwp=6,
              system_type=SystemType.DC, battery_model=BatteryModel.AURA_10, latitude=0, longitude=0,
              time_zone="UTC")
        for i in range(LOGGERS)
    )  # fmt: skip
    loggers = Datalogger.objects.bulk_create(
        Datalogger(
            plant=plants[i], serial_number=str(FIRST_SERIAL + i), reach="direct", host="127.0.0.1", port=port
        )
        for i in range(LOGGERS)
    )
    plant_status_refresh(Plant.objects.all())
    return [lg.id for lg in loggers]


def warm_up(services, logger_ids):
    """Poll without faults until every inverter is identified (nothing is stored for a stick whose
    inverter has not given its identity), then turn the faults on."""
    from devices import polling, tasks
    from devices.models import Inverter

    slot = polling.history_slot(datetime.now(UTC) - timedelta(days=60))
    deadline = time.monotonic() + 120
    while Inverter.objects.count() < LOGGERS and time.monotonic() < deadline:
        for batch in polling.batches(logger_ids, BATCH):
            tasks.poll_batch.apply_async((batch, slot.isoformat()))
        time.sleep(CYCLE)
    services.fault_rate = services.simulator.simulator.fault_rate = 0.05
    print(f"{Inverter.objects.count()} inverters identified; faults on", flush=True)


def run(services, logger_ids):
    """Send cycles and chaos for SECONDS; returns {task id: (logger ids, slot, sent at)}."""
    from alarms.tasks import send_pending_notifications
    from devices import polling, tasks

    base = polling.history_slot(datetime.now(UTC) - timedelta(days=30))
    started = time.monotonic()
    kills = sorted(random.uniform(0.15, 0.85) * SECONDS for _ in range(3))
    redis_restart, simulator_restart = 0.4 * SECONDS, 0.6 * SECONDS
    sent, crashes, cycle, next_sweep = {}, 0, 0, 30
    while (elapsed := time.monotonic() - started) < SECONDS:
        now = time.time()
        for i, device in enumerate(services.devices):
            device.raise_codes(*(["F13"] if f13_up(i, now) else []))
        if kills and elapsed >= kills[0]:
            kills.pop(0)
            n = random.randrange(2)
            services.kill_worker(n)
            services.start_worker(n)
            crashes += 1
            print(f"{elapsed:5.0f} s  worker {n} SIGKILLed and started again", flush=True)
        if redis_restart and elapsed >= redis_restart:
            redis_restart = None
            services.redis.kill()
            services.redis.wait()
            services.start_redis()
            print(f"{elapsed:5.0f} s  Redis restarted", flush=True)
        if simulator_restart and elapsed >= simulator_restart:
            simulator_restart = None
            services.stop_simulator()
            services.start_simulator()
            print(f"{elapsed:5.0f} s  simulator restarted", flush=True)
        if elapsed >= cycle * CYCLE:
            slot = base + timedelta(minutes=5 * cycle)
            for batch in polling.batches(logger_ids, BATCH):
                result = _send(tasks.poll_batch, batch, slot.isoformat())
                if result is not None:
                    sent[result.id] = (batch, slot, now)
            cycle += 1
        if elapsed >= next_sweep:
            next_sweep += 30
            _send(send_pending_notifications)
        time.sleep(0.2)
    return sent, crashes


def _send(task, *args):
    """Send a task as the beat would; a broker that is down loses it, as it would lose the beat's."""
    try:
        return task.apply_async(args)
    except Exception as exc:  # Redis restarting
        print(f"        not sent ({type(exc).__name__}): the beat's next cycle would poll again", flush=True)
        return None


def drain(services):
    """Wait until no task is queued, reserved or running, then sweep the alarm outbox to the end."""
    import redis

    from alarms.services import alarms_pending_notification
    from alarms.tasks import send_pending_notifications

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    quiet_since, deadline = None, time.monotonic() + 180
    while time.monotonic() < deadline:
        busy = client.llen("celery") or client.hlen("unacked") or any(client.scan_iter("aura:logger-lock:*"))
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 25:  # longer than the visibility timeout
            break
        time.sleep(1)
    for _ in range(10):
        if not alarms_pending_notification():
            break
        _send(send_pending_notifications)
        time.sleep(3)


def account(sent, crashes, services):
    from django.db import connection

    from alarms.models import Alarm
    from devices.models import Reading

    reported = {}
    for log in services.logs:
        for task_id, ok in SUCCEEDED.findall(log.read_text(errors="replace")):
            if task_id in sent:  # not the warm-up's
                reported[task_id] = max(reported.get(task_id, 0), int(ok))
    polls = sum(reported.values())
    lost = 0
    for task_id, ok in reported.items():
        batch, slot, _at = sent[task_id]
        stored = Reading.objects.filter(inverter__datalogger_id__in=batch, slot=slot).count()
        lost += max(0, ok - stored)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) - count(DISTINCT (inverter_id, slot)) FROM devices_reading")
        duplicated = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM alarms_alarm WHERE cleared_at IS NULL "
            "GROUP BY datalogger_id, inverter_id, code_id HAVING count(*) > 1) AS d"
        )
        duplicate_open = cursor.fetchone()[0]
    # An alarm opens when a poll sees F13 and clears when one sees it gone: each run of readings
    # showing F13, between readings without it, is one alarm (in cycle order).
    f13_word = _f13_word()
    expected, previous = 0, {}
    readings = Reading.objects.filter(
        slot__in={slot for _b, slot, _at in sent.values()}, fault_bits__isnull=False
    )
    for inverter_id, bits in readings.order_by("inverter_id", "slot").values_list(
        "inverter_id", "fault_bits"
    ):
        up = bool(bits & f13_word)
        expected += up and not previous.get(inverter_id, False)
        previous[inverter_id] = up
    opened = Alarm.objects.filter(code_id="F13").count()  # F13 rises only after the warm-up
    unnotified = Alarm.objects.filter(notified_at__isnull=True).count()
    alive = all(worker.poll() is None for worker in services.workers)
    print(
        f"polls={polls} readings_lost={lost} readings_duplicated={duplicated} "
        f"alarms_expected={expected} alarms_opened={opened} duplicate_open_alarms={duplicate_open} "
        f"unnotified_alarms={unnotified} worker_crashes_survived={crashes if alive else 0}"
    )


def create_database():
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS aura_soak WITH (FORCE)")
        conn.execute("CREATE DATABASE aura_soak")


def main():
    create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    services = Services()
    services.start_redis()
    services.start_simulator()
    logger_ids = create_fleet(services.v5_port)
    services.start_worker(0)
    services.start_worker(1)
    print(f"soak: {LOGGERS} loggers, {SECONDS} s, logs in {WORK}", flush=True)
    try:
        warm_up(services, logger_ids)
        sent, crashes = run(services, logger_ids)
        print("draining…", flush=True)
        drain(services)
        account(sent, crashes, services)
    finally:
        services.stop()


if __name__ == "__main__":
    main()
