"""Energy accounting: a simulated day polled over TCP, slot by slot, gives the simulator's own counters.

The simulator runs on its own clock, moved one history slot at a time, and the portal polls it for
real (Solarman V5 over a socket) and stores what it read; the day's energy is then computed from the
stored history only.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alarms.models import Alarm
from devices import remote
from devices.models import Datalogger, Inverter, Reading, ReadingFlag, live_totals
from devices.polling import poll_loggers
from devices.registermap import DAY_COUNTERS, HISTORY_FIELDS
from devices.services import datalogger_remove
from devices.simulator import TODAY_COUNTERS, FleetSimulator, SimulatedInverter, SimulatorThread
from energy.accounting import (
    CLOCK_DRIFT,
    COUNTER_STEP_KWH,
    GLITCH_WINDOW,
    RESIDENTIAL_MAX_KW,
    CounterState,
    counted,
    daily_energy_compute,
    daily_energy_due,
    daily_energy_refresh,
    daily_energy_refresh_batch,
    daily_energy_today,
    day_bounds,
    fold,
    local_today,
    max_kw,
    other_production_wh,
    ratios,
    slots_expected,
)
from energy.models import DailyEnergy, MonthlyEnergy
from plants.models import Plant, SystemType

from .conftest import api_for, attach_logger, login, make_plant
from .factories import InverterFactory, reading_stored

PARIS = ZoneInfo("Europe/Paris")


def d(value):
    return Decimal(value)


SLOT = timedelta(minutes=5)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def plant(plant):
    plant.created_at = LONG_AGO
    plant.save()
    return plant


class Clock:
    def __init__(self):
        self.now = datetime(2026, 6, 1, tzinfo=UTC)

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def clocked_simulator():
    clock = Clock()
    sim = FleetSimulator(clock=clock)
    with SimulatorThread(sim):
        sim.test_clock = clock
        yield sim


@pytest.fixture(autouse=True)
def _no_pause_between_requests(settings):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0  # a real stick needs it; the simulator does not


_serials = iter(range(2366660000, 2366669999))


def simulated_plant(company, sim, **inverter):
    plant = make_plant(
        company, name=f"Plant {len(sim.v5_devices)}", created_at=LONG_AGO, **inverter.pop("plant", {})
    )
    device = sim.add_v5(SimulatedInverter(next(_serials), f"AU{len(sim.v5_devices):09d}", **inverter))
    return plant, attach_logger(plant, device, sim), device


def poll_day(sim, logger, device, day, *, outage=None, every=SLOT):
    """Poll local `day` (and the hour before it) `every` 5 minutes or more, but during `outage` (a
    pair of local times); returns the simulator's day counters as read at the day's last reading,
    and what an AC-coupled PV inverter produced over the day (known to the simulator only)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=PARIS).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=PARIS).astimezone(UTC)
    moment, last_values, ac_at_start = start - timedelta(hours=1), None, None
    while moment < end:
        if moment >= start and ac_at_start is None:
            ac_at_start = device.ac_pv_kwh
        local = moment.astimezone(PARIS)
        if not (outage and outage[0] <= local.time() < outage[1]):
            sim.test_clock.now = moment
            (result,) = poll_loggers([logger.id], cycle_at=moment)
            if result.ok and moment >= start:
                last_values = result.values
        moment += every
    counters = {flow: last_values[key] for flow, key in DAY_COUNTERS.items()}
    return counters, device.ac_pv_kwh - ac_at_start


def wh(kwh):
    return int(Decimal(str(kwh)) * 1000)


def assert_day_equals(row, counters):
    for flow, kwh in counters.items():
        assert getattr(row, f"{flow}_wh") == wh(kwh), flow


@pytest.mark.parametrize(
    "day, slots",
    [(date(2026, 6, 10), 288), (date(2026, 3, 29), 276), (date(2026, 10, 25), 300)],
    ids=["summer day", "23-hour day", "25-hour day"],
)
@pytest.mark.slow  # a whole simulated day (tests/README.md)
def test_a_days_energy_is_the_inverters_own_counters(company, clocked_simulator, day, slots):
    plant, logger, device = simulated_plant(company, clocked_simulator)
    # Daylight-saving days are polled every 15 minutes: gaps too, and a quicker test.
    every = SLOT if slots == 288 else 3 * SLOT
    counters, _ = poll_day(clocked_simulator, logger, device, day, every=every)
    (row,) = daily_energy_compute(plants=[plant], day=day, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert counters["production"] > 10 if day.month == 6 else counters["production"] > 1
    assert_day_equals(row, counters)
    assert row.slots_expected == slots
    # The inverter sleeps once the battery is at its reserve and the sun is down: no reading then.
    assert 0 < row.slots_with_data <= slots


@pytest.mark.slow  # a whole simulated day (tests/README.md)
def test_a_two_hour_outage_is_a_gap_and_loses_no_energy(company, clocked_simulator):
    plant, logger, device = simulated_plant(company, clocked_simulator)
    day = date(2026, 6, 11)
    counters, _ = poll_day(
        clocked_simulator,
        logger,
        device,
        day,
        outage=(datetime.min.time().replace(hour=10), datetime.min.time().replace(hour=12)),
    )
    (row,) = daily_energy_compute(plants=[plant], day=day, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert_day_equals(row, counters)
    start = datetime(2026, 6, 11, 10, tzinfo=PARIS)
    gap = Reading.objects.filter(
        inverter__datalogger=logger, slot__gte=start, slot__lt=start + timedelta(hours=2)
    )
    assert not gap.exists()
    assert row.slots_expected - row.slots_with_data >= 24


@pytest.mark.slow  # a whole simulated day (tests/README.md)
def test_an_ac_coupled_retrofit_shows_its_other_pv_from_the_balance(company, clocked_simulator):
    plant, logger, device = simulated_plant(
        company, clocked_simulator, ac_pv_kwp=3.0, plant={"system_type": SystemType.AC}
    )
    day = date(2026, 6, 12)
    _, ac_kwh = poll_day(clocked_simulator, logger, device, day)
    (row,) = daily_energy_compute(plants=[plant], day=day, now=datetime(2026, 12, 1, tzinfo=UTC))
    other = other_production_wh(
        plant,
        {
            f: getattr(row, f)
            for f in (
                "production_wh",
                "consumption_wh",
                "grid_export_wh",
                "grid_import_wh",
                "battery_charge_wh",
                "battery_discharge_wh",
            )
        },
    )
    assert other > 5000
    # Six counters of 0.1 kWh each: the balance is within 0.3 kWh of what the old PV made.
    assert abs(other / 1000 - ac_kwh) < 0.35


def test_a_dc_plant_has_no_derived_production(plant):
    assert other_production_wh(plant, dict.fromkeys(["production_wh"], 0)) is None


def series(start, *values, every=SLOT):
    return [(start + i * every, None if v is None else Decimal(v)) for i, v in enumerate(values)]


NOON = datetime(2026, 6, 1, 10, tzinfo=UTC)
MIDNIGHT = datetime(2026, 5, 31, 22, tzinfo=UTC)  # Paris


def test_counter_resets_and_gaps_never_count_twice():
    # Rises add up; a fall that stays is a reset (counts from zero); a discarded value (None) is skipped.
    assert counted(series(NOON, "0.0", "1.0", None, "2.5", "0.3", "0.8")) == d("3.3")
    # An inverter clock late by minutes: yesterday's count (24.9 before midnight) is not counted again.
    before = (MIDNIGHT - SLOT, d("24.9"))
    assert counted(series(MIDNIGHT, "25.0", "25.1", "0.1", "0.5"), before=before, day_start=MIDNIGHT) == d(
        "0.5"
    )
    # No reading before the day: the first value is what the inverter counted since its midnight.
    assert counted(series(NOON, "4.2", "4.2")) == d("4.2")


def test_the_readings_ignored_are_said_and_the_limit_is_the_plants():
    readings = series(NOON, "1.0", "0.0", "1.1", "9.0")  # a dip that comes back, then 94.8 kW
    ignored = []
    assert counted(readings, ignored=ignored) == d("1.1")
    assert ignored == [(NOON + SLOT, ReadingFlag.Reason.GLITCH), (NOON + 3 * SLOT, ReadingFlag.Reason.SPIKE)]
    assert counted(readings, limit_kw=100) == d("9.0")  # a plant rated for it: energy


def test_a_zero_read_in_the_afternoon_does_not_count_the_morning_twice():
    assert counted(series(NOON, "20.0", "20.5", "0.0", "20.9", "21.0")) == d("21.0")
    assert counted(series(NOON, "20.0", "0.0", "0.0", "20.2")) == d("20.2")  # two zero reads in a row
    # Back exactly where it was 40 minutes later (a cloudy hour): the zero was the glitch, not a
    # restart that counted 20 kWh again (30 kW: not a spike either).
    back = [(NOON, d("20.0")), (NOON + SLOT, d("0.0")), (NOON + timedelta(minutes=45), d("20.0"))]
    assert counted(back) == d("20.0")


def test_a_spike_inside_the_sanity_limits_is_not_energy():
    assert counted(series(NOON, "20.0", "700.0", "20.1", "20.3")) == d("20.3")
    # What the plant can really count over a long gap is kept: 3 hours at 5 kW.
    assert counted([(NOON, d("5.0")), (NOON + timedelta(hours=3), d("20.0"))]) == d("20.0")


def test_a_replaced_inverter_adds_its_part_of_the_day(company, plant):
    logger = Datalogger.objects.create(plant=plant, serial_number="2401000001", host="127.0.0.1", port=8899)
    old = Inverter.objects.create(datalogger=logger, serial_number="OLD")
    new = Inverter.objects.create(datalogger=logger, serial_number="NEW")
    morning = datetime(2026, 6, 1, 6, tzinfo=PARIS)
    for i, value in enumerate(["1.0", "3.0", "5.0"]):
        Reading.objects.create(inverter=old, slot=morning + i * SLOT, pv_energy_today=Decimal(value))
    for i, value in enumerate(["0.5", "2.0"]):  # the new one counts from its own zero
        Reading.objects.create(
            inverter=new, slot=morning + timedelta(hours=6) + i * SLOT, pv_energy_today=d(value)
        )
    (row,) = daily_energy_compute(plants=[plant], day=date(2026, 6, 1), now=datetime(2026, 12, 1, tzinfo=UTC))
    assert row.production_wh == 7000
    assert row.slots_with_data == 5


def test_the_beat_refresh_closes_yesterday_once_and_recomputes_only_what_changed(company, plant):
    quiet = make_plant(company, name="Rien de neuf")  # its inverter first: no id is another's
    quiet_logger = Datalogger.objects.create(plant=quiet, serial_number="2401000003", host="127.0.0.1")
    Inverter.objects.create(datalogger=quiet_logger, serial_number="Q")
    logger = Datalogger.objects.create(plant=plant, serial_number="2401000002", host="127.0.0.1", port=8899)
    # An id no plant has: a mix-up of inverter and plant ids fails here (the test's changes roll back).
    inverter = Inverter.objects.create(pk=plant.pk + 100_000, datalogger=logger, serial_number="A")
    reading_stored(inverter, datetime(2026, 6, 1, 21, tzinfo=PARIS), load_energy_today=d("9.0"))
    reading_stored(inverter, datetime(2026, 6, 2, 8, tzinfo=PARIS), load_energy_today=d("1.5"))
    now = datetime(2026, 6, 2, 8, 1, tzinfo=PARIS)
    # Today's row of the plant with readings; yesterday's of both, not yet closed.
    assert daily_energy_refresh(now=now) == 3
    rows = {r.day: r for r in DailyEnergy.objects.filter(plant=plant)}
    assert rows[date(2026, 6, 1)].consumption_wh == 9000
    assert rows[date(2026, 6, 2)].consumption_wh == 1500
    # Today's expected slots are those begun so far: 00:00 … 08:00 local.
    assert rows[date(2026, 6, 2)].slots_expected == 97
    assert daily_energy_refresh(now=now + timedelta(minutes=5)) == 0  # nothing new, nothing computed
    reading_stored(inverter, datetime(2026, 6, 2, 8, 5, tzinfo=PARIS), load_energy_today=d("1.7"))
    with CaptureQueriesContext(connection) as queries:
        assert daily_energy_refresh(now=now + timedelta(minutes=6)) == 1  # only the one that changed
    # A few per batch of plants (the stored rows; the readings since; replacements rejected; the
    # lock; the flags rewritten; the rows; the month), none per plant.
    assert len(queries) <= 14, len(queries)
    assert DailyEnergy.objects.get(plant=plant, day=date(2026, 6, 2)).consumption_wh == 1700
    assert not DailyEnergy.objects.filter(plant=quiet, day=date(2026, 6, 2)).exists()
    # The month's row is the sum of its days, kept in step.
    assert MonthlyEnergy.objects.get(plant=plant, month=date(2026, 6, 1)).consumption_wh == 10700


def test_the_beat_computes_a_plant_whose_own_row_is_behind_and_never_for_a_rejected_inverter(company):
    behind, current, replaced = (
        make_plant(company, name=name, created_at=LONG_AGO) for name in ("En retard", "À jour", "Remplacé")
    )
    inverters = {plant: InverterFactory(datalogger__plant=plant) for plant in (behind, current, replaced)}
    eight = datetime(2026, 6, 2, 8, tzinfo=PARIS)
    reading_stored(inverters[behind], eight + timedelta(minutes=5), load_energy_today=d("1.0"))
    reading_stored(inverters[current], eight + timedelta(minutes=20), load_energy_today=d("1.0"))
    reading_stored(inverters[replaced], eight, load_energy_today=d("1.0"))
    now = eight + timedelta(minutes=30)
    daily_energy_compute(plants=[behind, current, replaced], day=date(2026, 6, 2), now=now)
    # Each plant against its own row: 08:10 is newer than its 08:05, older than the other's 08:20.
    reading_stored(inverters[behind], eight + timedelta(minutes=10), load_energy_today=d("1.1"))
    rejected = InverterFactory(datalogger=inverters[replaced].datalogger, rejected_at=now)
    reading_stored(rejected, eight + timedelta(minutes=25), load_energy_today=d("7.0"))
    due = daily_energy_due(now=now)
    assert due[date(2026, 6, 2)] == [behind.pk]
    assert {behind.pk, current.pk, replaced.pk} <= set(due[date(2026, 6, 1)])  # today's rows close not it


def test_the_beat_counts_each_plants_day_in_its_own_time_zone(company, plant):
    """At 23:30 in Paris it is already tomorrow on Réunion (UTC+4): a reading there after its
    midnight is due for its new day, and its day before is still to be closed."""
    reunion = make_plant(company, name="Saint-Denis", time_zone="Indian/Reunion", created_at=LONG_AGO)
    inverter = InverterFactory(datalogger__plant=reunion)
    reading_stored(
        inverter, datetime(2026, 6, 3, 1, tzinfo=ZoneInfo("Indian/Reunion")), load_energy_today=d("0.2")
    )
    now = datetime(2026, 6, 2, 23, 30, tzinfo=PARIS)
    assert local_today(reunion, now) == date(2026, 6, 3)
    assert day_bounds(date(2026, 6, 3), reunion.tzinfo) == (
        datetime(2026, 6, 2, 20, tzinfo=UTC),
        datetime(2026, 6, 3, 20, tzinfo=UTC),
    )
    due = daily_energy_due(now=now)
    assert due[date(2026, 6, 3)] == [reunion.pk]
    assert reunion.pk in due[date(2026, 6, 2)] and plant.pk in due[date(2026, 6, 1)]
    (row,) = daily_energy_compute(plants=[reunion], day=date(2026, 6, 3), now=now)
    assert row.consumption_wh == 200  # read at 21:00 UTC: the Réunion day's, not the Paris one's


def test_a_plants_day_with_nothing_new_expects_the_slots_since_its_own_midnight(company):
    reunion = make_plant(company, name="Saint-Denis", time_zone="Indian/Reunion", created_at=LONG_AGO)
    inverter = InverterFactory(datalogger__plant=reunion)
    midnight = datetime(2026, 6, 3, tzinfo=ZoneInfo("Indian/Reunion"))  # 22:00 the day before in Paris
    reading_stored(inverter, midnight + timedelta(hours=1), load_energy_today=d("0.2"))
    daily_energy_compute(plants=[reunion], day=date(2026, 6, 3), now=midnight + timedelta(hours=1, minutes=1))
    row = daily_energy_today(plant=reunion, now=midnight + timedelta(hours=2, minutes=30))
    assert row.slots_expected == 31  # 00:00 … 02:30 in Saint-Denis


def test_the_beat_closes_each_plants_yesterday_by_its_own_row(company):
    """A row of yesterday computed during yesterday is not closed; another plant's closed row does
    not close it."""
    closed, open_ = (make_plant(company, name=name, created_at=LONG_AGO) for name in ("Close", "Ouverte"))
    yesterday, midnight = date(2026, 6, 1), datetime(2026, 6, 2, tzinfo=PARIS)
    for plant, computed_at in ((closed, midnight + SLOT), (open_, midnight - SLOT)):
        DailyEnergy.objects.create(plant=plant, company=company, day=yesterday, computed_at=computed_at)
    due = daily_energy_due(now=midnight + timedelta(minutes=20))
    assert open_.pk in due[yesterday] and closed.pk not in due[yesterday]


def test_a_plant_created_at_noon_expects_the_afternoon_only(company):
    plant = make_plant(company, created_at=datetime(2026, 6, 1, 12, 2, tzinfo=PARIS))
    (row,) = daily_energy_compute(plants=[plant], day=date(2026, 6, 1), now=datetime(2026, 7, 1, tzinfo=UTC))
    assert row.slots_expected == 144  # 12:00 … 23:55
    (row,) = daily_energy_compute(plants=[plant], day=date(2026, 5, 31), now=datetime(2026, 7, 1, tzinfo=UTC))
    assert row.slots_expected == 0


def test_self_consumption_and_self_sufficiency():
    day = {"production_wh": 20000, "consumption_wh": 12000, "grid_export_wh": 9000, "grid_import_wh": 3000}
    assert ratios(day) == {"self_consumption_pct": 55.0, "self_sufficiency_pct": 75.0}
    assert ratios(dict.fromkeys(day, 0)) == {"self_consumption_pct": None, "self_sufficiency_pct": None}
    # All of it exported, all of it bought: zero, not a rounding above it.
    day = {"production_wh": 100, "grid_export_wh": 100, "consumption_wh": 300, "grid_import_wh": 300}
    assert ratios(day) == {"self_consumption_pct": 0, "self_sufficiency_pct": 0}
    assert ratios({**day, "consumption_wh": 3, "grid_import_wh": 1})["self_sufficiency_pct"] == 66.7


def test_history_columns_are_the_register_maps():
    columns = [f.name for f in Reading._meta.concrete_fields if f.name not in ("inverter", "slot")]
    assert sorted(columns) == sorted(HISTORY_FIELDS)
    assert set(DAY_COUNTERS.values()) <= set(HISTORY_FIELDS)


def test_a_late_inverter_clock_with_no_reading_before_midnight_does_not_count_yesterday(company, plant):
    """Yesterday ended at 44.6 kWh (last read at 21:00: an outage until midnight); the inverter's
    clock is 7 minutes late, so its first readings after midnight still say 44.6."""
    logger = Datalogger.objects.create(plant=plant, serial_number="2401000003", host="127.0.0.1", port=8899)
    inverter = Inverter.objects.create(datalogger=logger, serial_number="LATE", rated_power_w=6000)
    midnight = datetime(2026, 6, 2, tzinfo=PARIS)
    Reading.objects.create(inverter=inverter, slot=midnight - timedelta(hours=3), pv_energy_today=d("44.6"))
    values = ["44.6", "44.6", "0.0", "0.0"] + ["0.0"] * 80 + [f"{0.1 * i:.1f}" for i in range(1, 50)]
    for i, value in enumerate(values):
        Reading.objects.create(inverter=inverter, slot=midnight + i * SLOT, pv_energy_today=d(value))
    (row,) = daily_energy_compute(plants=[plant], day=date(2026, 6, 2), now=datetime(2026, 12, 1, tzinfo=UTC))
    assert row.production_wh == 4900


def test_a_reading_older_than_the_day_before_is_not_yesterdays_count(company, plant):
    """The stick was offline from the evening before yesterday until 15:00 today: the day counter
    (the definition's "Today …") has reset at least once since 12.0 kWh was read, so 13.0 kWh read
    at 15:00 is today's, not 1.0 kWh more. Only a reading of the day before may be yesterday's."""
    inverter = InverterFactory(datalogger__plant=plant)
    today = datetime(2026, 6, 2, tzinfo=PARIS)
    reading_stored(inverter, today - timedelta(days=1, hours=4), pv_energy_today=d("12.0"))
    reading_stored(inverter, today + timedelta(hours=15), pv_energy_today=d("13.0"))
    (row,) = daily_energy_compute(plants=[plant], day=date(2026, 6, 2), now=datetime(2026, 12, 1, tzinfo=UTC))
    assert row.production_wh == 13000


def poll_through(sim, day, loggers, *, at_noon):
    """Poll local `day` (and the hour before) every 5 minutes; `loggers()` says which loggers are
    polled now, `at_noon()` runs once before the 12:00 poll. Returns the last values read by logger."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=PARIS).astimezone(UTC)
    end, noon = start + timedelta(days=1), start + timedelta(hours=12)  # no DST change in June
    moment, last, swapped = start - timedelta(hours=1), {}, False
    while moment < end:
        if not swapped and moment >= noon:
            at_noon(moment)
            swapped = True
        sim.test_clock.now = moment
        for result in poll_loggers([lg.id for lg in loggers()], cycle_at=moment):
            if result.ok and moment >= start:
                last[result.logger_id] = result.values
        moment += SLOT
    return last


def fresh_inverter(logger_serial, inverter_serial, at):
    """A new inverter powered on at `at`: its day counters start from zero then."""
    device = SimulatedInverter(logger_serial, inverter_serial)
    device.step(at)
    for key in TODAY_COUNTERS:
        device.counters[key] = 0.0
    return device


@pytest.mark.slow  # a whole simulated day (tests/README.md)
@pytest.mark.parametrize("new_serial", ["AA000000001", "ZZ000000001"], ids=["sorts before", "sorts after"])
def test_an_inverter_replaced_at_noon_counts_each_for_its_part_of_the_day(
    company, clocked_simulator, new_serial, installer
):
    sim, day = clocked_simulator, date(2026, 6, 12)
    plant, logger, old = simulated_plant(company, sim)
    devices = {}

    def swap(moment):
        devices["old_last"] = {flow: round(old.counters[key], 1) for flow, key in DAY_COUNTERS.items()}
        sim.v5_devices[old.logger_serial] = devices.setdefault(
            "new", fresh_inverter(old.logger_serial, new_serial, moment)
        )

    last = poll_through(sim, day, lambda: [logger], at_noon=swap)
    new = devices["new"]
    (row,) = daily_energy_compute(plants=[plant], day=day, now=datetime(2026, 12, 1, tzinfo=UTC))
    for flow, key in DAY_COUNTERS.items():
        # The old inverter's last reading (11:55) and the new one's day, read at its last poll.
        expected = Decimal(str(devices["old_last"][flow])) + Decimal(str(last[logger.id][key]))
        assert abs(getattr(row, f"{flow}_wh") - int(expected * 1000)) <= 100, flow

    replaced, replacement = (
        Inverter.objects.get(serial_number=old.inverter_serial),
        Inverter.objects.get(serial_number=new_serial),
    )
    assert (
        replaced.ended_at is not None and replacement.replaces == replaced and replacement.replacement_pending
    )
    assert replacement.datalogger == logger == replaced.datalogger
    live = live_totals(list(Inverter.objects.filter(datalogger=logger).select_related("live")))
    assert live["pv_power"] == new.values()["pv1_power"] + new.values()["pv2_power"]  # the device's, once
    assert Alarm.objects.get(inverter=replacement, cleared_at__isnull=True).code_id == "SWP"
    with pytest.raises(ValidationError):  # nothing is written to it before an installer confirms
        remote.setting_changes_request(inverter=replacement, by=installer, new={"charge_limit": 50})
    sim.v5_devices.pop(old.logger_serial)


@pytest.mark.slow  # a whole simulated day (tests/README.md)
def test_a_stick_replaced_at_noon_continues_the_same_inverter(company, clocked_simulator):
    sim, day = clocked_simulator, date(2026, 6, 13)
    plant, first_logger, device = simulated_plant(company, sim)
    loggers = [first_logger]

    def new_stick(moment):
        datalogger_remove(logger=first_logger)
        sim.v5_devices.pop(device.logger_serial)
        device.logger_serial = next(_serials)
        sim.v5_devices[device.logger_serial] = device
        loggers[:] = [attach_logger(plant, device, sim)]

    last = poll_through(sim, day, lambda: loggers, at_noon=new_stick)
    (inverter,) = Inverter.objects.filter(datalogger__plant=plant)  # one row across both sticks
    assert inverter.datalogger == loggers[0] and inverter.ended_at is None
    (row,) = daily_energy_compute(plants=[plant], day=day, now=datetime(2026, 12, 1, tzinfo=UTC))
    for flow, key in DAY_COUNTERS.items():
        assert abs(getattr(row, f"{flow}_wh") - wh(last[loggers[0].id][key])) <= 100, flow
    sim.v5_devices.pop(device.logger_serial)


def test_ignored_readings_are_kept_and_flagged_in_the_history(company, plant, installer):
    """A zero read and a spike: not counted, still in the history as read, and flagged there (the
    readings CSV's last column, the readings API's `not_counted`); computing again flags them once."""
    logger = Datalogger.objects.create(plant=plant, serial_number="2401000004", host="127.0.0.1", port=8899)
    inverter = Inverter.objects.create(datalogger=logger, serial_number="KSFLAG", rated_power_w=6000)
    noon = datetime(2026, 6, 3, 12, tzinfo=PARIS)
    for i, value in enumerate(["20.0", "20.5", "0.0", "20.9", "700.0", "21.0"]):
        Reading.objects.create(inverter=inverter, slot=noon + i * SLOT, pv_energy_today=d(value))
    for _ in range(2):
        (row,) = daily_energy_compute(
            plants=[plant], day=date(2026, 6, 3), now=datetime(2026, 12, 1, tzinfo=UTC)
        )
    assert row.production_wh == 21000
    flags = {(f.slot, f.counter, f.reason) for f in ReadingFlag.objects.all()}
    assert flags == {
        (noon + 2 * SLOT, "pv_energy_today", "glitch"),
        (noon + 4 * SLOT, "pv_energy_today", "spike"),
    }
    assert Reading.objects.filter(inverter=inverter).count() == 6  # kept as read
    response = login(installer).get(
        reverse("energy:readings_csv", args=[plant.pk]), {"start": "2026-06-03", "end": "2026-06-03"}
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert (
        "Non compté" in lines[0]
        and lines[3].endswith(";pv_energy_today")
        and lines[5].endswith(";pv_energy_today")
    )
    assert lines[2].endswith(";")  # counted: nothing named
    readings = api_for(installer).get(f"/api/v1/inverters/{inverter.pk}/readings/").json()["results"]
    assert [r["not_counted"] for r in readings] == [[], ["pv_energy_today"], [], ["pv_energy_today"], [], []]


def test_readings_stored_out_of_order_count_in_time_order(plant):
    """A late poll stores an earlier slot after a later one: the day is still counted in time order."""
    inverter = InverterFactory(datalogger__plant=plant)
    morning = datetime(2026, 6, 1, 9, tzinfo=PARIS)
    for i, value in [(2, "3.0"), (0, "1.0"), (3, "4.0"), (1, "2.0")]:
        Reading.objects.create(inverter=inverter, slot=morning + i * SLOT, pv_energy_today=d(value))
    (row,) = daily_energy_compute(plants=[plant], day=date(2026, 6, 1), now=datetime(2026, 12, 1, tzinfo=UTC))
    assert row.production_wh == 4000 and row.slots_with_data == 4


def test_the_midnight_slot_is_the_new_days(plant):
    inverter = InverterFactory(datalogger__plant=plant)
    midnight = datetime(2026, 6, 2, tzinfo=PARIS)
    Reading.objects.create(inverter=inverter, slot=midnight - SLOT, pv_energy_today=d("30.0"))
    Reading.objects.create(inverter=inverter, slot=midnight, pv_energy_today=d("0.0"))
    Reading.objects.create(inverter=inverter, slot=midnight + timedelta(hours=9), pv_energy_today=d("2.0"))
    later = datetime(2026, 12, 1, tzinfo=UTC)
    (first,) = daily_energy_compute(plants=[plant], day=date(2026, 6, 1), now=later)
    (second,) = daily_energy_compute(plants=[plant], day=date(2026, 6, 2), now=later)
    assert (first.production_wh, first.slots_with_data) == (30000, 1)
    assert (second.production_wh, second.slots_with_data) == (2000, 2)


def test_todays_figures_are_computed_again_once_a_poll_stored_a_newer_reading(plant):
    inverter = InverterFactory(datalogger__plant=plant)
    now = datetime(2026, 6, 1, 10, 1, tzinfo=PARIS)
    for slot, kwh in ((now - timedelta(hours=1), "1.0"), (now + timedelta(minutes=4), "1.6")):
        reading_stored(inverter, slot, pv_energy_today=d(kwh))
        assert daily_energy_today(plant=plant, now=slot + timedelta(minutes=2)).production_wh == int(
            d(kwh) * 1000
        )
    # Read again with nothing new: the stored row, not a computation.
    computed_at = DailyEnergy.objects.get(plant=plant).computed_at
    daily_energy_today(plant=plant, now=now + timedelta(minutes=9))
    assert DailyEnergy.objects.get(plant=plant).computed_at == computed_at


def test_todays_figures_are_the_plants_own_computed_at_the_time_asked(company, plant):
    neighbour = make_plant(company, name="Voisin", created_at=LONG_AGO)
    inverter, neighbours = (
        InverterFactory(datalogger__plant=plant),
        InverterFactory(datalogger__plant=neighbour),
    )
    eight = datetime(2026, 6, 2, 8, tzinfo=PARIS)
    reading_stored(inverter, eight - timedelta(hours=11), pv_energy_today=d("9.0"))
    reading_stored(neighbours, eight, pv_energy_today=d("5.0"))
    daily_energy_compute(plants=[plant], day=date(2026, 6, 1), now=eight)
    daily_energy_compute(plants=[neighbour], day=date(2026, 6, 2), now=eight)
    # No row of its own today (yesterday's and the neighbour's are not it): computed at 08:00.
    row = daily_energy_today(plant=plant, now=eight)
    assert (row.plant, row.day, row.production_wh, row.computed_at) == (plant, date(2026, 6, 2), 0, eight)
    assert row.slots_expected == 97
    # Nothing stored today since: not computed again, its expected slots counted to 08:20 only.
    row = daily_energy_today(plant=plant, now=eight + timedelta(minutes=20))
    assert (row.computed_at, row.slots_expected) == (eight, 101)
    assert DailyEnergy.objects.get(plant=neighbour).slots_expected == 97
    reading_stored(inverter, eight + timedelta(minutes=25), pv_energy_today=d("1.0"))
    row = daily_energy_today(plant=plant, now=eight + timedelta(minutes=26))
    assert (row.production_wh, row.computed_at) == (1000, eight + timedelta(minutes=26))
    # The neighbour's poll and a rejected replacement's are not this plant's news.
    reading_stored(neighbours, eight + timedelta(minutes=30), pv_energy_today=d("5.5"))
    rejected = InverterFactory(datalogger=inverter.datalogger, rejected_at=eight)
    reading_stored(rejected, eight + timedelta(minutes=30), pv_energy_today=d("7.0"))
    row = daily_energy_today(plant=plant, now=eight + timedelta(minutes=31))
    assert (row.production_wh, row.computed_at) == (1000, eight + timedelta(minutes=26))


def test_an_archived_plant_is_left_by_a_batch_queued_before(plant):
    reading_stored(
        InverterFactory(datalogger__plant=plant),
        datetime(2026, 6, 2, 8, tzinfo=PARIS),
        pv_energy_today=d("1"),
    )
    Plant.objects.filter(pk=plant.pk).update(archived_at=datetime(2026, 6, 2, 8, 1, tzinfo=PARIS))
    now = datetime(2026, 6, 2, 8, 2, tzinfo=PARIS)
    assert daily_energy_refresh_batch(plant_ids=[plant.pk], day=date(2026, 6, 2), now=now) == 0
    assert not DailyEnergy.objects.filter(plant=plant).exists()


def test_the_rules_hold_at_their_edges():
    # A rise at exactly what the plant can count (36 kW for 5 minutes, plus one step) is energy; more is
    # a spike.
    edge = d("3.0") + COUNTER_STEP_KWH
    assert counted([(NOON, d("1.0")), (NOON + SLOT, d("1.0") + edge)]) == d("1.0") + edge
    assert counted([(NOON, d("1.0")), (NOON + SLOT, d("1.1") + edge)]) == d("1.0")
    # Twice the rating when that is more than the home's connection: a 25 kW inverter may count 50 kW.
    assert max_kw(25000) == 50 and max_kw(5000) == RESIDENTIAL_MAX_KW and max_kw(None) == RESIDENTIAL_MAX_KW
    # A dip that comes back exactly an hour later is a glitch; back an hour and five minutes later, a reset.
    back = [(NOON, d("5.0")), (NOON + SLOT, d("0.0")), (NOON + SLOT + GLITCH_WINDOW, d("5.5"))]
    assert counted(back) == d("5.5")
    late = [(NOON, d("5.0")), (NOON + SLOT, d("0.0")), (NOON + 2 * SLOT + GLITCH_WINDOW, d("5.5"))]
    assert counted(late) == d("10.5")
    # Yesterday's count after midnight only within the clock drift: at 01:00 the counter is today's.
    before = (MIDNIGHT - SLOT, d("24.9"))
    drift = [(MIDNIGHT + CLOCK_DRIFT - SLOT, d("25.0")), (MIDNIGHT + CLOCK_DRIFT, d("25.4"))]
    assert counted(drift, before=before, day_start=MIDNIGHT) == d("0.4")


def test_the_slots_expected_are_those_begun_and_none_before_the_plant(company):
    plant = make_plant(company, created_at=datetime(2026, 6, 1, 10, 0, tzinfo=PARIS))
    start, end = datetime(2026, 6, 1, tzinfo=PARIS), datetime(2026, 6, 2, tzinfo=PARIS)
    assert slots_expected(plant, start, end, now=datetime(2026, 6, 1, 9, tzinfo=PARIS)) == 0
    assert slots_expected(plant, start, end, now=datetime(2026, 6, 1, 10, 0, tzinfo=PARIS)) == 1
    assert slots_expected(plant, start, end, now=datetime(2026, 6, 1, 10, 7, tzinfo=PARIS)) == 2
    assert slots_expected(plant, start, end, now=end - timedelta(seconds=1)) == 168
    assert slots_expected(plant, start, end, now=end) == 168


def test_a_retrofits_other_pv_is_never_negative_and_the_ratios_round_to_a_tenth(company):
    retrofit = make_plant(company, system_type=SystemType.AC)
    wh = {"production_wh": 1000, "consumption_wh": 500, "grid_export_wh": 0, "grid_import_wh": 0,
          "battery_charge_wh": 0, "battery_discharge_wh": 0}  # fmt: skip
    assert other_production_wh(retrofit, wh) == 0
    assert other_production_wh(retrofit, {**wh, "consumption_wh": 1700, "grid_import_wh": 200}) == 500
    day = {"production_wh": 3000, "consumption_wh": 3000, "grid_export_wh": 1000, "grid_import_wh": 4000}
    assert ratios(day) == {"self_consumption_pct": 66.7, "self_sufficiency_pct": 0}
    assert ratios(day, other_wh=1000)["self_consumption_pct"] == 75.0


def test_a_rise_across_a_gap_is_spread_over_its_half_hours():
    """Tariffs value the day by half-hour: a rise between two readings an hour apart is split in
    proportion to the time in each half-hour; a reading every 5 minutes falls in one."""
    state, _settled, _undecided = fold(
        [(MIDNIGHT + timedelta(hours=10), d("1.0")), (MIDNIGHT + timedelta(hours=11, minutes=15), d("4.0")),
         (MIDNIGHT + timedelta(hours=11, minutes=20), d("4.5"))],
        CounterState.before_day(None),
        day_start=MIDNIGHT,
    )  # fmt: skip
    # 1.0 counted before 10:00 (the first reading of a day without one before it) in its half-hour;
    # 3.0 over 10:00-11:15: 1.2 in 10:00, 1.2 in 10:30, 0.6 in 11:00; then 0.5 in 11:00.
    assert state.half_hours == {20: d("2.2"), 21: d("1.2"), 22: d("1.1")}
    assert sum(state.half_hours.values()) == state.total == d("4.5")
    # A restart between two readings: what the counter counted since is spread the same way.
    state, _settled, _undecided = fold(
        [(MIDNIGHT + timedelta(hours=10), d("5.0")), (MIDNIGHT + timedelta(hours=11, minutes=15), d("0.9"))],
        CounterState(),
        day_start=MIDNIGHT,
    )
    assert state.half_hours == {20: d("5.36"), 21: d("0.36"), 22: d("0.18")}
    # The day's first reading at 00:10, nothing before it: the first half-hour's.
    state, _settled, _undecided = fold(series(MIDNIGHT + 2 * SLOT, "0.3"), CounterState(), day_start=MIDNIGHT)
    assert state.half_hours == {0: d("0.3")}


def test_a_tally_stored_before_the_half_hour_split_counts_the_day_again(plant):
    inverter = InverterFactory(datalogger__plant=plant)
    morning = datetime(2026, 6, 1, 9, tzinfo=PARIS)
    for i, value in enumerate(["1.0", "2.0", "3.0"]):
        reading_stored(inverter, morning + i * SLOT, pv_energy_today=d(value))
    later = datetime(2026, 6, 1, 12, tzinfo=PARIS)
    (row,) = daily_energy_compute(plants=[plant], day=date(2026, 6, 1), now=later)
    old = {column: state[:4] for column, state in row.tally["counters"][str(inverter.pk)].items()}
    DailyEnergy.objects.filter(pk=row.pk).update(
        tally={**row.tally, "counters": {str(inverter.pk): old}}, half_hours=None
    )
    reading_stored(inverter, morning + 3 * SLOT, pv_energy_today=d("3.5"))
    (row,) = daily_energy_compute(plants=[plant], day=date(2026, 6, 1), now=later)
    assert row.production_wh == 3500 and sum(row.half_hours["production_wh"]) == 3500
