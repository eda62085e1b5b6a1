"""`make mutation`: mutation testing (mutmut) of the core rules, one module at a time, with the test
modules that hold each; prints each module's score and the surviving mutants. Not in CI (it takes
long). Each module runs in a copy of the checkout under MUTATION_DIR, against its own database.

    python -m tests.mutation                      # every module below
    python -m tests.mutation core/scoping.py      # one

The score is killed / (killed + survived + untested); a survivor that no test could ever kill (an
equivalent mutant) is said so in EQUIVALENT with the reason, and left out of the score.

Each module runs in two halves at once (its even- and odd-numbered mutants, one per core), each half in
a copy of its own and a lane of its own databases, one mutant at a time. Two mutants on one test
database would collide: the second pytest's setup fails ("database already exists") and mutmut counts
that failure as a killed mutant. A lane's test database is created once per half (dropped first) and
kept between its mutants (--reuse-db): the migrations are half of a mutant's run. A mutant stopped for
its time (a timeout) may leave rows behind that fail the next one's tests; the timeouts are counted in
the output, so that such kills can be run again alone.
"""

import fnmatch
import itertools
import os
import queue
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("MUTATION_DIR", "/tmp/aura-mutation"))
GOAL = 90.0
HALVES = ("[02468]", "[13579]")  # a mutant's name ends with its number

# Module → the test modules that hold its rules.
CORE = {
    "energy/accounting.py": [
        "tests/test_energy_accounting.py",
        "tests/test_energy_refresh.py",
        "tests/test_recount_energy.py",
    ],
    "devices/registermap.py": [
        "tests/test_registermap.py",
        "tests/test_transport.py",
        "tests/test_polling.py",
    ],
    "devices/v5.py": ["tests/test_transport.py", "tests/test_hub.py"],
    "alarms/services.py": [
        "tests/test_alarm_detection.py",
        "tests/test_alarm_notify.py",
        "tests/test_alarm_acknowledge.py",
        "tests/test_alarm_list.py",
        "tests/test_alarm_notification_delay.py",
        "tests/test_alarm_escalation.py",
        "tests/test_alarm_incidents.py",
        "tests/test_alarm_subscriptions.py",
        "tests/test_maintenance.py",
        "tests/test_inverter_replacement.py",
        "tests/test_polling.py",
        "tests/test_datalogger_lifecycle.py",
    ],
    "core/scoping.py": [
        "tests/test_scoping.py",
        "tests/test_edge.py",
        "tests/test_plant_access.py",
        "tests/test_access_matrix.py",
        "tests/test_data_rights.py",
        "tests/test_company_roles.py",
    ],
    "economics/money.py": ["tests/test_savings.py"],
    "monitoring/status.py": [
        "tests/test_plant_status.py",
        "tests/test_commissioning.py",
        "tests/test_customer_grant.py",
        "tests/test_datalogger_attach.py",
        "tests/test_fleet_home.py",
    ],
}

# Where the rule is a part of its module, only that part's functions are mutated: in the alarm
# services, opening and clearing alarms from a poll (not the notices, escalations and digests).
RULE_FUNCTIONS = {
    "alarms/services.py": [
        "alarms_from_poll",
        "_reopen_recent",
        "policies_of",
        "_communication_changes",
        "_code_changes",
        "_detail",
        "_communication",
    ],
}

# Mutants no test can kill, by name, with why (mutmut's names: module.x_function__mutmut_n), by module.
EQUIVALENT: dict[str, str] = {
    "alarms.services.x__code_changes__mutmut_10": "night looked up for every poll: only W04 depends on it",
    "alarms.services.x__communication__mutmut_10": "a logger never seen never had COM open: none to clear",
    "alarms.services.x__communication__mutmut_17": "a logger never seen never had INV open: none to clear",
    "alarms.services.x__reopen_recent__mutmut_15": "a wider read: rows matched by logger, inverter, code",
    "alarms.services.x__reopen_recent__mutmut_16": "a wider read: rows matched by logger, inverter, code",
    "alarms.services.x__reopen_recent__mutmut_17": "a wider read: rows matched by logger, inverter, code",
    "alarms.services.x__reopen_recent__mutmut_22": "a wider read: rows matched by logger, inverter, code",
    "alarms.services.x__reopen_recent__mutmut_23": "older rows read too, then refused by the quiet period",
    "alarms.services.x_alarm_notify__mutmut_25": "select_related: one query fewer, the same e-mail",
    "alarms.services.x_alarm_notify__mutmut_27": "select_related: one query fewer, the same e-mail",
    "alarms.services.x_alarm_notify__mutmut_37": "the alarm itself is not yet e-mailed (emailed=False)",
    "alarms.services.x_alarms_from_poll__mutmut_5": "other loggers' alarms, never matched: keyed by logger",
    "alarms.services.x_policies_of__mutmut_5": "a default policy's company is never read, only its delays",
    "core.scoping.xǁRestrictedByPlantQuerySetǁplant_model__mutmut_2": "each plant_path is one relation",
    "devices.registermap.x__grid_current_checked__mutmut_27": "power 0 W returned earlier (under 50 W)",
    "devices.registermap.x__grid_current_checked__mutmut_28": "power under 50 W returned earlier",
    "devices.registermap.x__grid_current_checked__mutmut_50": "decoded currents have three decimals already",
    "devices.registermap.xǁRegisterǁdecode__mutmut_8": "int.to_bytes is big-endian by default",
    "devices.registermap.xǁRegisterǁdecode__mutmut_9": "a 16-bit word's third byte is a NUL, dropped",
    "devices.registermap.xǁRegisterǁdecode__mutmut_23": "codec names are case-insensitive",
    "devices.registermap.xǁRegisterǁdecode__mutmut_63": "round(an int, 0) is that int: scale 1",
    "devices.registermap.xǁRegisterǁdecode__mutmut_70": "round(an int, 0) is that int: scale 1",
    "devices.registermap.xǁRegisterǁdisplay__mutmut_6": "a 32-bit word has no bit 32",
    "devices.registermap.xǁRegisterǁencode__mutmut_11": "codec names are case-insensitive",
    "devices.registermap.xǁRegisterǁencode__mutmut_20": "int.from_bytes is big-endian by default",
    "devices.registermap.xǁRegisterǁencode__mutmut_65": "a sign of 1 or -1: dividing by it is multiplying",
    "devices.v5.x_check__mutmut_9": "its callers (hub, transport, simulator) never read its words",
    "devices.v5.x_check__mutmut_10": "its callers (hub, transport, simulator) never read its words",
    "devices.v5.x_check__mutmut_11": "its callers (hub, transport, simulator) never read its words",
    "devices.v5.x_read_frame__mutmut_14": "its callers (hub, transport, simulator) never read its words",
    "devices.v5.x_read_frame__mutmut_18": "its callers (hub, transport, simulator) never read its words",
    "devices.v5.x_read_frame__mutmut_33": "its callers (hub, transport, simulator) never read its words",
    "economics.money.x_day_money__mutmut_15": "a day with energy has half-hours: never the default",
    "economics.money.x_day_money__mutmut_17": "a day with energy has half-hours: never the default",
    "economics.money.x_day_money__mutmut_18": "no half-hour at all: one empty half-hour adds nothing",
    "economics.money.x_half_hour_prices__mutmut_7": "hour × 61 adds under 30 min: no half-hour changes side",
    "economics.money.x_money_by_day__mutmut_34": "one more earlier day's colour read, never used",
    "economics.money.x_tempo_colours__mutmut_8": "no lower bound: earlier colours read too, the same prices",
    "economics.money.x_tempo_colours__mutmut_9": "no upper bound: later colours read too, the same prices",
    "energy.accounting.x__count__mutmut_1": "last and last_at are always set together",
    "energy.accounting.x__count__mutmut_27": "None is as false as False, here and in the stored tally",
    "energy.accounting.x__read_history__mutmut_8": "the default serves an empty group, which is skipped",
    "energy.accounting.x__read_history__mutmut_42": "each inverter's readings stay in time order",
    "energy.accounting.x__read_history__mutmut_43": "the bucket follows the slot: the same order",
    "energy.accounting.x__read_history__mutmut_61": "a batch size: the same readings",
    "energy.accounting.x__read_history__mutmut_62": "a batch size: the same readings",
    "energy.accounting.x__store__mutmut_5": "FOR UPDATE, a stronger lock: the same writes in the same order",
    "energy.accounting.x__store__mutmut_10": "FOR UPDATE, a stronger lock: the same writes in the same order",
    "energy.accounting.x__store__mutmut_20": "a batch size: the same rows",
    "energy.accounting.x__store__mutmut_22": "a batch size: the same rows",
    "energy.accounting.x__store__mutmut_23": "a batch size: the same rows",
    "energy.accounting.x__store__mutmut_28": "a batch size: the same rows",
    "energy.accounting.x__store__mutmut_33": "a batch size: the same rows",
    "energy.accounting.x__store__mutmut_47": "a batch size: the same rows",
    "energy.accounting.x__without_rejected__mutmut_7": "values_list() without a field lists the pk",
    "energy.accounting.x__without_rejected__mutmut_11": "a wider read, kept to the tally's inverters",
    "energy.accounting.x__yesterdays_last__mutmut_36": "values_list(*COUNTER_COLUMNS): always as many values",
    "energy.accounting.x__yesterdays_last__mutmut_39": "values_list(*COUNTER_COLUMNS): always as many values",
    "energy.accounting.x__yesterdays_last__mutmut_40": "values_list(*COUNTER_COLUMNS): always as many values",
    "energy.accounting.x_daily_energy_compute__mutmut_11": "a deferred field is read when used: same row",
    "energy.accounting.x_daily_energy_compute__mutmut_14": "a wider read: stored rows looked up by plant",
    "energy.accounting.x_daily_energy_due__mutmut_59": "one row per plant and day (unique): [:2] reads one",
    "energy.accounting.x_daily_energy_due__mutmut_70": "values_list() without a field lists the pk",
    "energy.accounting.x_daily_energy_due__mutmut_88": "values_list() without a field lists the pk",
    "energy.accounting.x_day_bounds__mutmut_18": "the same instant in another zone: only compared",
    "energy.accounting.x_day_bounds__mutmut_19": "the same instant in another zone: only compared",
    "energy.accounting.x_max_kw__mutmut_9": "1 W rated is 0.002 kW: under the 36 kW floor all the same",
    "energy.accounting.x_monthly_energy_update__mutmut_5": "from a 1st, 32 or 33 days on is the next month",
    "energy.accounting.x_monthly_energy_update__mutmut_17": "unquoted SQL names are case-insensitive",
    "energy.accounting.x_slots_between__mutmut_7": "int() of a positive span's quotient is its floor",
    "energy.accounting.x_slots_expected__mutmut_7": "at the day's end the slot under way is capped by it",
    "energy.accounting.xǁCounterStateǁcount__mutmut_24": "a first count of the day: its half-hour empty",
    "energy.accounting.xǁCounterStateǁcount__mutmut_48": "the last part as a ratio: 1e-28 kWh off, not a Wh",
    "energy.accounting.xǁ_DayTallyǁadd__mutmut_9": "values_list(*COUNTER_COLUMNS): always as many values",
    "energy.accounting.xǁ_DayTallyǁadd__mutmut_12": "values_list(*COUNTER_COLUMNS): always as many values",
    "energy.accounting.xǁ_DayTallyǁadd__mutmut_13": "values_list(*COUNTER_COLUMNS): always as many values",
    "monitoring.status.x_plant_status_refresh__mutmut_17": "SQL keywords are case-insensitive",
    "monitoring.status.x_plants_with_computed_status__mutmut_103": "the Case's type inferred from its texts",
    "monitoring.status.x_plants_with_computed_status__mutmut_108": "the Case's type inferred from its texts",
}

ENV = {
    "SECRET_KEY": "mutation-only",
    "DATALOGGER_ALLOWED_NETWORKS": "127.0.0.0/8",
    "HTTPS": "0",
    "DEBUG": "0",
    "STATIC_MANIFEST": "0",
    "DATABASE_CONN_MAX_AGE": "0",
    "CELERY_TASK_ALWAYS_EAGER": "1",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


def _lane_env(lane):
    """The databases of one lane: PostgreSQL (its test database is test_<name>) and Redis."""
    return {
        **os.environ,
        **ENV,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/aura_mutation_{lane}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{12 + lane}",
    }


def _fresh_test_database(env):
    """Drop the lane's test databases. mutmut forks each mutant's pytest from a process whose own
    runs already renamed the settings' database to its test name, so the name a mutant uses is
    test_ more than once over (test_test_…_aura_mutation_0)."""
    lane_database = env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        names = connection.execute(
            "SELECT datname FROM pg_database WHERE datname ~ %s", [rf"^(test_)+{lane_database}$"]
        ).fetchall()
        for (name,) in names:
            connection.execute(f'DROP DATABASE "{name}"')


def _copy_checkout(module, half, tests):
    """The checkout's files in a directory of their own, with mutmut told what to mutate."""
    slug = re.sub(r"\W", "_", module)
    work = WORK / f"{slug}_{half}"
    shutil.rmtree(work, ignore_errors=True)
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    package = module.split("/")[0]
    others = sorted({name.split("/")[0] for name in files if "/" in name} - {package, "tests"})
    # A mutant's CPU-time limit is (its tests' time + 1 s) × timeout_multiplier × 2: mutmut's default
    # 15 let a mutant looping forever in the half-hour split hold a core for 14 minutes.
    config = f"""
[tool.mutmut]
source_paths = ["{package}"]
only_mutate = ["{module}"]
also_copy = {[*others, "manage.py"]!r}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x", "--reuse-db"]
timeout_multiplier = 2.0
pytest_add_cli_args_test_selection = {tests!r}
"""
    with open(work / "pyproject.toml", "a") as pyproject:
        pyproject.write(config.replace("'", '"'))
    return work


def _results(work, env):
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    statuses = {}
    for line in listing.splitlines():
        name, _, status = line.strip().partition(": ")
        if status:
            statuses[name] = status.strip()
    return statuses


def mutate_half(module, half, lane):
    """One half of a module's mutants, in a lane: {mutant name: status}."""
    work = _copy_checkout(module, half, CORE[module])
    dotted = module.removesuffix(".py").replace("/", ".")
    functions = [f"x_{function}" for function in RULE_FUNCTIONS.get(module, [])] or ["*"]
    names = [f"{dotted}.{function}__mutmut_*{HALVES[half]}" for function in functions]
    env = _lane_env(lane)
    _fresh_test_database(env)
    with open(work.with_suffix(".log"), "w") as log:
        subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", "1", *names],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return {
        name: status
        for name, status in _results(work, env).items()
        if any(fnmatch.fnmatch(name, pattern) for pattern in names)
    }


def score(statuses):
    """(score, survivors, timeouts) of a module's mutants, the equivalent ones left out."""
    counted = {name: s for name, s in statuses.items() if name not in EQUIVALENT}
    killed = sum(s in ("killed", "timeout", "caught by type check") for s in counted.values())
    survivors = sorted(name for name, s in counted.items() if s in ("survived", "no tests"))
    considered = killed + len(survivors)
    timeouts = sum(s == "timeout" for s in counted.values())
    return (100.0 * killed / considered if considered else 100.0), survivors, timeouts


def main(modules):
    lanes: queue.Queue[int] = queue.Queue()
    for lane in range(len(HALVES)):
        lanes.put(lane)

    def in_a_lane(job):
        module, half = job
        lane = lanes.get()
        try:
            return module, mutate_half(module, half, lane)
        finally:
            lanes.put(lane)

    modules = modules or list(CORE)
    statuses: dict[str, dict[str, str]] = {module: {} for module in modules}
    with ThreadPoolExecutor(max_workers=len(HALVES)) as pool:
        for module, half_statuses in pool.map(in_a_lane, itertools.product(modules, range(len(HALVES)))):
            statuses[module].update(half_statuses)
    scores = {module: score(statuses[module]) for module in modules}
    for module, (pct, survivors, timeouts) in scores.items():
        print(
            f"{module}: {pct:.1f} % killed of {len(statuses[module])} mutants, {timeouts} by timeout; "
            f"survivors: {' '.join(survivors) or '-'}"
        )
    print(
        " ".join(
            f"{m.replace('/', '.').removesuffix('.py')}_pct={pct:.1f}" for m, (pct, *_r) in scores.items()
        )
    )
    return 0 if all(pct >= GOAL for pct, *_r in scores.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
