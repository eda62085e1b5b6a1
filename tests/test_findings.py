"""The underperformance finding: a plant far below the clear sky on a day its neighbours were not.
Each plant's day is what the simulator's physics gives (its clear-sky sun at the plant); a plant
"with half its PV missing" is one whose simulated panels are half its declared kWp."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import translation

from alarms.models import Alarm
from devices.models import InverterLive, Reading
from devices.simulator import SimulatedInverter
from energy.models import DailyEnergy
from monitoring import findings

from .conftest import make_plant
from .factories import DataloggerFactory, InverterFactory

pytestmark = pytest.mark.integration

DAY = date(2026, 6, 15)
# Villages around Lyon, a few kilometres apart.
PLACES = [(45.76, 4.84), (45.80, 4.90), (45.70, 4.80), (45.74, 4.95), (45.85, 4.78)]


def simulated_day_kwh(lat, lon, kwp):
    """A day of the simulator's clear-sky production at (lat, lon) for `kwp` of panels."""
    device = SimulatedInverter(1, "X", kwp=kwp, latitude=lat, longitude=lon, sleeps_at_night=False)
    start = datetime(2026, 6, 14, 22, 0, tzinfo=UTC)  # local midnight in Lyon
    for minutes in range(0, 24 * 60, 10):
        device.step(start + timedelta(minutes=minutes))
    return device.counters["pv_energy_today"]


def plant_day(company, name, place, *, kwp_working, kwp=6):
    plant = make_plant(company, name=name, latitude=place[0], longitude=place[1], pv_power_kwp=kwp)
    DataloggerFactory(plant=plant)
    kwh = simulated_day_kwh(*place, kwp_working)
    DailyEnergy.objects.create(
        plant=plant,
        company=company,
        day=DAY,
        production_wh=round(kwh * 1000),
        slots_with_data=288,
        slots_expected=288,
    )
    return plant


def test_a_plant_with_half_its_pv_missing_next_to_normal_plants_is_found(company):
    faulty = plant_day(company, "Demi-toit", PLACES[0], kwp_working=2.4)
    for i, place in enumerate(PLACES[1:]):
        plant_day(company, f"Voisin {i}", place, kwp_working=6)
    opened = findings.underperformance_findings(day=DAY)
    assert [a.plant for a in opened] == [faulty]
    with translation.override("fr"):
        detail = str(opened[0].detail)
    expected = findings.clear_sky_kwh(
        latitude=45.76, longitude=4.84, time_zone="Europe/Paris", day=DAY, kwp=6
    )
    assert f"{round(expected, 1)}".replace(".", ",") in detail and "kWh attendus" in detail
    assert f"{round(simulated_day_kwh(*PLACES[0], 2.4), 1)}".replace(".", ",") in detail
    # Run again: the same finding, not a second.
    findings.underperformance_findings(day=DAY)
    assert Alarm.objects.filter(code_id="P01").count() == 1


def test_on_a_cloudy_day_when_every_plant_is_low_nobody_is_found(company):
    plant_day(company, "Demi-toit", PLACES[0], kwp_working=1.2)
    for i, place in enumerate(PLACES[1:]):
        plant_day(company, f"Voisin {i}", place, kwp_working=2.0)  # clouds: everyone at a third
    assert findings.underperformance_findings(day=DAY) == []


def test_without_enough_neighbours_nothing_is_claimed(company):
    plant_day(company, "Isolée", PLACES[0], kwp_working=1.0)
    plant_day(company, "Seule voisine", PLACES[1], kwp_working=6)
    assert findings.underperformance_findings(day=DAY) == []


def test_a_healthy_plant_matches_its_clear_sky_expectation(company):
    """The performance ratio is right for a healthy simulated plant: its share is near 1."""
    plant = plant_day(company, "Saine", PLACES[0], kwp_working=6)
    (day,) = [d for d in findings._days(DAY) if d.plant == plant]
    assert 0.8 < day.share < 1.2


def energy_day(plant, day, **wh):
    fields = {"production_wh": 20_000, "battery_charge_wh": 0, "battery_discharge_wh": 0, **wh}
    DailyEnergy.objects.create(
        plant=plant, company=plant.company, day=day, slots_with_data=288, slots_expected=288, **fields
    )


def test_a_battery_idle_for_three_whole_days_is_found_and_clears_when_it_moves(company):
    plant = make_plant(company, name="Batterie muette")
    DataloggerFactory(plant=plant)
    for back in range(3):
        energy_day(plant, DAY - timedelta(days=back))
    (alarm,) = findings.battery_idle_findings(day=DAY)
    with translation.override("fr"):
        assert "3" in str(alarm.detail)
    energy_day(plant, DAY + timedelta(days=1), battery_charge_wh=4000)
    findings.battery_idle_findings(day=DAY + timedelta(days=1))
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None


def test_two_idle_days_or_a_day_with_gaps_say_nothing(company):
    plant = make_plant(company, name="Deux jours")
    DataloggerFactory(plant=plant)
    energy_day(plant, DAY)
    energy_day(plant, DAY - timedelta(days=1))
    DailyEnergy.objects.create(
        plant=plant, company=company, day=DAY - timedelta(days=2), slots_with_data=100, slots_expected=288
    )
    assert findings.battery_idle_findings(day=DAY) == []


def test_a_day_counter_that_stayed_at_zero_while_pv_was_read_is_found(company):
    plant = make_plant(company, name="Compteur figé")
    logger = DataloggerFactory(plant=plant)
    inverter = InverterFactory(datalogger=logger)
    energy_day(plant, DAY, production_wh=0)
    Reading.objects.create(inverter=inverter, slot=datetime(2026, 6, 15, 10, 0, tzinfo=UTC), pv_power=3150)
    (alarm,) = findings.zero_production_findings(day=DAY)
    assert alarm.code_id == "P05"
    with translation.override("fr"):
        assert "3150 W" in str(alarm.detail) or "3\u202f150 W" in str(alarm.detail)


def grid_charging_night(company, *, battery_power, soc):
    """An inverter with grid charging on from 02:00 to 05:00 (up to 90 %), and its readings of that
    window on DAY (02:00-05:00 in Paris is 00:00-03:00 UTC)."""
    inverter = InverterFactory(datalogger=DataloggerFactory(plant=make_plant(company, name="Heures creuses")))
    InverterLive.objects.create(
        inverter=inverter,
        at=datetime(2026, 6, 16, 8, 0, tzinfo=UTC),
        values={"grid_charge_enable": 1, "grid_charge_start": "02:00", "grid_charge_end": "05:00",
                "grid_charge_max_soc": 90},
    )  # fmt: skip
    for minutes in range(0, 180, 30):
        Reading.objects.create(
            inverter=inverter,
            slot=datetime(2026, 6, 15, 0, 0, tzinfo=UTC) + timedelta(minutes=minutes),
            battery_power=battery_power,
            battery_soc=soc(minutes),
        )


def test_grid_charging_that_charged_nothing_in_its_window_is_found(company):
    grid_charging_night(company, battery_power=0, soc=lambda minutes: 35)
    (alarm,) = findings.grid_charge_findings(day=DAY)
    with translation.override("fr"):
        assert "02:00" in str(alarm.detail) and "35" in str(alarm.detail)


def test_grid_charging_that_charged_is_not_a_finding(company):
    grid_charging_night(company, battery_power=-2500, soc=lambda minutes: 35 + minutes // 10)
    assert findings.grid_charge_findings(day=DAY) == []


def test_a_day_with_no_pv_at_all_under_a_clear_sky_is_no_production(company):
    plant = make_plant(company, name="Sectionneur ouvert")
    inverter = InverterFactory(datalogger=DataloggerFactory(plant=plant))
    energy_day(plant, DAY, production_wh=0)
    Reading.objects.create(inverter=inverter, slot=datetime(2026, 6, 15, 10, 0, tzinfo=UTC), pv_power=0)
    (alarm,) = findings.zero_production_findings(day=DAY)
    assert alarm.code_id == "P06"
    with translation.override("fr"):
        assert "0 kWh" in str(alarm.detail)
