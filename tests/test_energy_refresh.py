"""The beat's energy refresh: incremental (only the readings since the stored tally), in batches on any
worker, with the same rows as a computation from midnight."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from devices.models import Datalogger, Inverter, Reading, ReadingFlag
from energy.accounting import daily_energy_compute, daily_energy_today, monthly_energy_update
from energy.models import DailyEnergy, MonthlyEnergy

from .conftest import make_plant
from .factories import InverterFactory, reading_stored

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 6, 2)
MIDNIGHT = datetime(2026, 6, 2, tzinfo=PARIS)
SLOT = timedelta(minutes=5)


def pv_counter(slot):
    """kWh of a sunny day's PV counter at `slot`, with the field's accidents: yesterday's count
    carried past midnight by a late clock, a glitch of zeros that comes back, a spike, a restart."""
    minutes = (slot - MIDNIGHT).total_seconds() / 60
    if minutes < 10:
        return Decimal("31.4")  # yesterday's count, the inverter's clock a few minutes late
    if slot == MIDNIGHT + timedelta(hours=9, minutes=5):
        return Decimal("0")  # a glitch: the next reading is back
    if slot == MIDNIGHT + timedelta(hours=10):
        return Decimal("650.0")  # a spike
    level = Decimal(max(0, minutes - 360)) / 60 * Decimal("1.2")
    if slot >= MIDNIGHT + timedelta(hours=13):
        return (level - Decimal("8.4")).quantize(Decimal("0.1"))  # a restart at 13:00: from zero
    return level.quantize(Decimal("0.1"))


def day_of(plant, until):
    logger = Datalogger.objects.create(
        plant=plant, serial_number=str(2402000000 + plant.pk), host="127.0.0.1"
    )
    inverter = Inverter.objects.create(datalogger=logger, serial_number=f"INV{plant.pk}", rated_power_w=6000)
    Reading.objects.create(inverter=inverter, slot=MIDNIGHT - SLOT, pv_energy_today=Decimal("31.4"))
    slots = []
    slot = MIDNIGHT
    while slot < until:
        slots.append(slot)
        slot += SLOT
    return inverter, slots


def store_pv_day(inverter, slots):
    for slot in slots:
        reading_stored(inverter, slot, pv_energy_today=pv_counter(slot))


def flags_of(plant):
    return sorted(
        ReadingFlag.objects.filter(inverter__datalogger__plant=plant).values_list("slot", "counter", "reason")
    )


def figures(row):
    return row.production_wh, row.slots_with_data, row.slots_expected, row.half_hours


@pytest.mark.django_db
def test_a_day_refreshed_every_few_minutes_equals_the_day_computed_from_midnight(company):
    plant = make_plant(company)
    end = MIDNIGHT + timedelta(hours=16)
    inverter, slots = day_of(plant, end)
    for i, slot in enumerate(slots):
        reading_stored(inverter, slot, pv_energy_today=pv_counter(slot))
        if i % 3 == 0 or 8 <= slot.hour < 14:  # uneven moments; right after each accident
            daily_energy_compute(plants=[plant], day=DAY, now=slot + timedelta(minutes=1))
    (incremental,) = daily_energy_compute(plants=[plant], day=DAY, now=end)
    assert incremental.tally is not None  # it did resume from its tally
    incremental_flags = flags_of(plant)
    DailyEnergy.objects.filter(plant=plant).delete()
    (from_midnight,) = daily_energy_compute(plants=[plant], day=DAY, now=end)
    assert figures(incremental) == figures(from_midnight)
    assert incremental_flags == flags_of(plant)
    # The day's accidents were all seen (glitch and spike flagged; the restart counted on).
    assert {reason for _slot, _counter, reason in incremental_flags} == {"glitch", "spike"}
    assert from_midnight.production_wh == 8300 + 3500  # 8.3 kWh by 12:55, then 3.5 from zero by 15:55


@pytest.mark.django_db
def test_a_refresh_between_two_readings_of_yesterdays_count_still_knows_it_is_yesterdays(company):
    """An inverter clock minutes late: the house's consumption still adds to yesterday's count after
    local midnight, and a refresh comes between those readings."""
    plant = make_plant(company)
    inverter = InverterFactory(datalogger__plant=plant)
    for slot, kwh in [
        (MIDNIGHT - SLOT, "12.0"),
        (MIDNIGHT, "12.1"),
        (MIDNIGHT + SLOT, "12.2"),
        (MIDNIGHT + 2 * SLOT, "0.1"),
    ]:
        reading_stored(inverter, slot, load_energy_today=Decimal(kwh))
        (row,) = daily_energy_compute(plants=[plant], day=DAY, now=slot + timedelta(minutes=1))
    assert row.consumption_wh == 100  # from the reset at 00:10 only


@pytest.mark.django_db
def test_a_reading_from_an_inverter_the_tally_does_not_hold_counts_the_day_again(company):
    """A second inverter's readings stored late (its own logger's backlog), one of them from before
    the tally's point: its whole day counts, whatever the order the inverters are read in."""
    plant = make_plant(company)
    late, tallied = InverterFactory(datalogger__plant=plant), InverterFactory(datalogger__plant=plant)
    assert late.pk < tallied.pk  # read first: a later inverter the tally holds must not hide it
    nine = MIDNIGHT + timedelta(hours=9)
    reading_stored(tallied, nine, pv_energy_today=Decimal("2.0"))
    daily_energy_compute(plants=[plant], day=DAY, now=nine + timedelta(minutes=1))
    reading_stored(late, nine - timedelta(minutes=30), pv_energy_today=Decimal("5.0"))
    # Restarted since: from zero.
    reading_stored(late, nine + timedelta(minutes=30), pv_energy_today=Decimal("0.5"))
    reading_stored(tallied, nine + timedelta(minutes=30), pv_energy_today=Decimal("2.4"))
    tomorrow = MIDNIGHT + timedelta(days=1, hours=1)
    reading_stored(late, tomorrow, pv_energy_today=Decimal("0.3"))  # the day is closed the next morning
    reading_stored(tallied, tomorrow, pv_energy_today=Decimal("0.2"))
    (row,) = daily_energy_compute(plants=[plant], day=DAY, now=tomorrow + timedelta(minutes=1))
    assert row.production_wh == 2400 + 5500  # none of the next day's


@pytest.mark.django_db
def test_a_large_inverters_fast_rise_is_energy_before_and_after_a_refresh(company):
    """42 kW for five minutes is beyond a house but not a 25 kW inverter (its limit is 50 kW), in the
    first count and in the tally kept across a restart that may yet be a glitch."""
    plant = make_plant(company)
    inverter = InverterFactory(datalogger__plant=plant, rated_power_w=25000)
    ten = MIDNIGHT + timedelta(hours=10)
    produced = []
    for i, kwh in enumerate(["1.0", "4.5", "0.3", "0.6"]):
        reading_stored(inverter, ten + i * SLOT, pv_energy_today=Decimal(kwh))
        if i != 1:  # the rise and the restart read by one refresh
            (row,) = daily_energy_compute(plants=[plant], day=DAY, now=ten + i * SLOT + timedelta(minutes=1))
            produced.append(row.production_wh)
    assert produced == [1000, 4500 + 300, 4500 + 600]
    assert sum(row.half_hours["production_wh"]) == row.production_wh  # the kept tally's half-hours too


@pytest.mark.django_db
def test_the_half_hours_round_to_the_days_wh_the_leftover_to_the_largest_remainder(company):
    plant = make_plant(company)
    inverter = InverterFactory(datalogger__plant=plant)
    start = MIDNIGHT + timedelta(hours=10, minutes=25)
    for slot, kwh in [(start, "1.0"), (start + timedelta(minutes=35), "1.1")]:
        reading_stored(inverter, slot, pv_energy_today=Decimal(kwh))
    (row,) = daily_energy_compute(plants=[plant], day=DAY, now=start + timedelta(hours=1))
    # 1,000 Wh at 10:25, then 100 Wh over 35 minutes: 14.29 Wh before 10:30 and 85.71 after.
    assert row.half_hours["production_wh"][20:] == [1014, 86]
    # The larger half-hour with the larger remainder: 1,000 Wh at 10:20, then 500 Wh over 30 minutes,
    # a third before 10:30 (1,166.67 Wh) and two after (333.33 Wh).
    other = InverterFactory(datalogger__plant=make_plant(company, name="Autre"))
    for slot, kwh in [(start - SLOT, "1.0"), (start + timedelta(minutes=25), "1.5")]:
        reading_stored(other, slot, pv_energy_today=Decimal(kwh))
    (row,) = daily_energy_compute(plants=[other.datalogger.plant], day=DAY, now=start + timedelta(hours=1))
    assert row.half_hours["production_wh"][20:] == [1167, 333]


@pytest.mark.django_db
def test_a_plants_refresh_replaces_its_own_flags_and_no_other_plants(company):
    plants = [make_plant(company, name=name) for name in ("Est", "Ouest")]
    ten = MIDNIGHT + timedelta(hours=10)
    for plant in plants:
        inverter = InverterFactory(datalogger__plant=plant)
        for i, kwh in enumerate(["1.0", "700.0", "1.1"]):  # a spike, flagged
            Reading.objects.create(inverter=inverter, slot=ten + i * SLOT, pv_energy_today=Decimal(kwh))
    daily_energy_compute(plants=plants, day=DAY, now=ten + timedelta(hours=1))
    DailyEnergy.objects.filter(plant=plants[0]).delete()  # counted again from midnight
    daily_energy_compute(plants=plants[:1], day=DAY, now=ten + timedelta(hours=2))
    assert [len(flags_of(plant)) for plant in plants] == [1, 1]


@pytest.mark.django_db
def test_a_days_refresh_replaces_its_own_flags_and_not_the_next_days(company):
    plant = make_plant(company)
    inverter = InverterFactory(datalogger__plant=plant)
    for day in (MIDNIGHT, MIDNIGHT + timedelta(days=1)):
        for i, kwh in enumerate(["1.0", "700.0", "1.1"]):  # a spike each day, flagged
            reading_stored(inverter, day + timedelta(hours=10) + i * SLOT, pv_energy_today=Decimal(kwh))
    later = MIDNIGHT + timedelta(days=3)
    daily_energy_compute(plants=[plant], day=DAY + timedelta(days=1), now=later)
    DailyEnergy.objects.filter(plant=plant, day=DAY).delete()
    daily_energy_compute(plants=[plant], day=DAY, now=later)
    assert [slot.astimezone(PARIS).day for slot, _counter, _reason in flags_of(plant)] == [2, 3]


@pytest.mark.django_db
def test_a_rejected_replacements_readings_are_not_the_plants_energy(company):
    plant = make_plant(company)
    inverter = InverterFactory(datalogger__plant=plant)
    rejected = InverterFactory(datalogger=inverter.datalogger, rejected_at=MIDNIGHT)
    ten = MIDNIGHT + timedelta(hours=10)
    for unit, kwh in ((inverter, "2.0"), (rejected, "7.0")):
        reading_stored(unit, ten, pv_energy_today=Decimal(kwh))
    (row,) = daily_energy_compute(plants=[plant], day=DAY, now=ten + SLOT)
    assert row.production_wh == 2000


@pytest.mark.django_db
def test_the_baseline_is_yesterdays_last_reading_and_none_of_today(company):
    """No reading in the hour before midnight (an outage from 20:00): the house's day counter stood
    at 12.0 kWh then, so 0.4 at 00:30 is below it, a reset, and counts; 0.3 read at 07:00 is older."""
    plant = make_plant(company)
    inverter = InverterFactory(datalogger__plant=plant)
    for slot, kwh in [
        (MIDNIGHT - timedelta(hours=17), "0.3"),
        (MIDNIGHT - timedelta(hours=4), "12.0"),
        (MIDNIGHT + timedelta(minutes=30), "0.4"),
        (MIDNIGHT + timedelta(hours=3), "0.9"),
    ]:
        reading_stored(inverter, slot, load_energy_today=Decimal(kwh))
    (row,) = daily_energy_compute(plants=[plant], day=DAY, now=MIDNIGHT + timedelta(hours=4))
    assert row.consumption_wh == 900


@pytest.mark.django_db
def test_two_inverters_producing_in_one_half_hour_both_count_in_it(company):
    plant = make_plant(company)
    inverters = [InverterFactory(datalogger__plant=plant) for _ in range(2)]
    ten = MIDNIGHT + timedelta(hours=10)
    for inverter, kwh in zip(inverters, ["1.0", "2.0"], strict=True):
        for slot, value in [(ten, kwh), (ten + 2 * SLOT, str(Decimal(kwh) + Decimal("0.5")))]:
            reading_stored(inverter, slot, pv_energy_today=Decimal(value))
    (row,) = daily_energy_compute(plants=[plant], day=DAY, now=ten + timedelta(hours=1))
    assert row.production_wh == 4000
    assert row.half_hours["production_wh"][20] == 4000  # 10:00-10:30: the two inverters' 3.0 + 1.0 kWh


@pytest.mark.django_db
def test_a_months_energy_is_its_own_days_only(company):
    plant = make_plant(company)
    for day, wh in [
        (date(2026, 5, 31), 1),
        (date(2026, 6, 1), 10),
        (date(2026, 6, 30), 100),
        (date(2026, 7, 1), 1000),
    ]:
        DailyEnergy.objects.create(plant=plant, company=company, day=day, production_wh=wh)
    monthly_energy_update(plant_ids=[plant.pk], month=date(2026, 6, 1), now=MIDNIGHT)
    assert MonthlyEnergy.objects.get(plant=plant, month=date(2026, 6, 1)).production_wh == 110


@pytest.mark.parametrize(
    ("hours", "resumes_at"),
    [
        (12, None),  # a counter rising: the tally holds every reading, the next refresh reads the new
        (13.5, MIDNIGHT + timedelta(hours=13)),  # the restart at 13:00 may yet be a glitch: from there
        (14 + 1 / 12, None),  # the reading at 14:00, a whole GLITCH_WINDOW later, settled it: a restart
        (3, None),  # a counter flat at night: no later reading can change it
    ],
)
@pytest.mark.django_db
def test_a_refresh_reads_only_the_readings_a_later_one_may_change(company, hours, resumes_at):
    plant = make_plant(company)
    end = MIDNIGHT + timedelta(hours=hours)
    inverter, slots = day_of(plant, end)
    store_pv_day(inverter, slots)
    (row,) = daily_energy_compute(plants=[plant], day=DAY, now=end)
    resume_from = datetime.fromisoformat(row.tally["from"])
    assert resume_from == (resumes_at or slots[-1] + timedelta(microseconds=1))
    # The history rows before that point are no longer needed: a refresh must not read them.
    Reading.objects.filter(inverter=inverter, slot__lt=resume_from).update(pv_energy_today=Decimal("999"))
    (again,) = daily_energy_compute(plants=[plant], day=DAY, now=end + timedelta(minutes=5))
    assert again.production_wh == row.production_wh
    # Nothing new: the same point to resume from, kept for the refresh after.
    assert (again.latest_slot, again.tally) == (row.latest_slot, row.tally)


@pytest.mark.django_db
def test_an_inverter_rejected_after_it_was_tallied_leaves_the_days_energy(company):
    plant = make_plant(company)
    inverter, slots = day_of(plant, MIDNIGHT + timedelta(hours=12))
    store_pv_day(inverter, slots)
    (row,) = daily_energy_compute(plants=[plant], day=DAY, now=slots[-1])
    assert row.production_wh > 0
    Inverter.objects.filter(pk=inverter.pk).update(rejected_at=slots[-1])
    (row,) = daily_energy_compute(plants=[plant], day=DAY, now=slots[-1] + SLOT)
    assert row.production_wh == 0


@pytest.mark.django_db
def test_a_plant_that_stopped_reporting_is_less_complete_as_its_day_goes_on(company):
    """Nothing new: the beat leaves its row alone, but the page still counts the slots since."""
    plant = make_plant(company, created_at=MIDNIGHT - timedelta(days=1))
    inverter, slots = day_of(plant, MIDNIGHT + timedelta(hours=10))
    store_pv_day(inverter, slots)
    daily_energy_compute(plants=[plant], day=DAY, now=slots[-1] + timedelta(minutes=30))  # the last refresh
    row = daily_energy_today(plant=plant, now=MIDNIGHT + timedelta(hours=18))
    assert (row.slots_with_data, row.slots_expected) == (120, 217)  # 00:00 … 09:55 of 00:00 … 18:00
    month = MonthlyEnergy.objects.get(plant=plant, month=DAY.replace(day=1))
    assert (month.slots_with_data, month.slots_expected) == (120, 217)  # the month's bars agree


@pytest.mark.django_db
def test_an_earlier_look_at_today_never_lowers_the_slots_counted_by_a_later_one(company):
    """Two pages read at once, the slower one computed first: the stored count keeps the larger."""
    plant = make_plant(company, created_at=MIDNIGHT - timedelta(days=1))
    inverter, slots = day_of(plant, MIDNIGHT + timedelta(hours=10))
    store_pv_day(inverter, slots)
    daily_energy_compute(plants=[plant], day=DAY, now=slots[-1] + timedelta(minutes=30))
    daily_energy_today(plant=plant, now=MIDNIGHT + timedelta(hours=18))
    assert daily_energy_today(plant=plant, now=MIDNIGHT + timedelta(hours=12)).slots_expected == 217
    assert DailyEnergy.objects.get(plant=plant, day=DAY).slots_expected == 217
