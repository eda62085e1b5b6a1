"""Tariff-driven grid charging: tomorrow's window from the tariff, the Tempo calendar and the last
days' sun; written on a simulated inverter and read back, left alone when it is already set,
reported and not overwritten when someone changed it, and never left half-written in force when
the link drops."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from devices import polling
from devices.models import SettingChange
from devices.simulator import Behaviour
from economics.charging import (
    charge_plan,
    charge_schedule_enable,
    charge_schedule_run,
    charge_schedules_run_due,
)
from economics.models import ChargeSchedule, Tariff, TempoDay
from energy.models import DailyEnergy

from .conftest import attach_logger, login, text

PARIS = ZoneInfo("Europe/Paris")
TONIGHT = date(2026, 12, 14)
NIGHT_TO_60 = {"grid_charge_enable": 1, "grid_charge_start": "22:00", "grid_charge_end": "06:00",
               "grid_charge_max_soc": 60}  # fmt: skip
HPHC = {
    "kind": Tariff.Kind.PEAK_OFF_PEAK,
    "off_peak_hours": "22:00-06:00",
    "peak_price": Decimal("0.2700"),
    "off_peak_price": Decimal("0.2068"),
}
TEMPO = {
    "kind": Tariff.Kind.TEMPO,
    **{f"{c}_{p}_price": Decimal("0.15") for c in ("blue", "white") for p in ("peak", "off_peak")},
    "red_peak_price": Decimal("0.6586"),
    "red_off_peak_price": Decimal("0.1518"),
}


def tariff(plant, **fields):
    return Tariff.objects.create(plant=plant, valid_from=date(2026, 1, 1), **fields)


def sunny(plant, export_kwh, days=3):
    for back in range(days):
        DailyEnergy.objects.create(
            plant=plant,
            company=plant.company,
            day=TONIGHT - timedelta(days=back),
            grid_export_wh=export_kwh * 1000,
        )


def test_peak_off_peak_hours_give_the_window_and_the_sun_gives_the_soc(plant):
    tariff(plant, **HPHC)  # AURA 10: 10 kWh usable
    sunny(plant, 4)
    plan = charge_plan(plant=plant, night_of=TONIGHT)
    # The sun left about 6 kWh of 10 unfilled: 60 %.
    assert plan.window == NIGHT_TO_60
    assert plan.saving_per_day == Decimal("0.38")  # 6 kWh × (0.27 − 0.2068)


def test_two_off_peak_ranges_give_the_nights(plant):
    tariff(plant, **{**HPHC, "off_peak_hours": "12:30-14:30, 01:30-07:30"})
    plan = charge_plan(plant=plant, night_of=TONIGHT)
    assert (plan.window["grid_charge_start"], plan.window["grid_charge_end"]) == ("01:30", "07:30")


def test_a_tempo_red_day_tomorrow_charges_fully_tonight(plant):
    tariff(plant, **TEMPO)
    sunny(plant, 9)  # sun or not
    TempoDay.objects.create(day=TONIGHT, colour="blue")
    TempoDay.objects.create(day=TONIGHT + timedelta(days=1), colour="red")
    plan = charge_plan(plant=plant, night_of=TONIGHT)
    assert plan.window["grid_charge_max_soc"] == 100 and plan.window["grid_charge_start"] == "22:00"
    assert plan.saving_per_day == Decimal("5.09")  # 10 kWh × (0.6586 red peak − 0.15 blue off-peak)


@pytest.mark.parametrize(
    "fields, export_kwh", [(HPHC, 12), ({"base_price": Decimal("0.25")}, 0)], ids=["sun", "base"]
)
def test_no_charge_when_the_sun_fills_the_battery_or_no_hour_is_cheaper(plant, fields, export_kwh):
    tariff(plant, **fields)
    sunny(plant, export_kwh)
    assert charge_plan(plant=plant, night_of=TONIGHT).window == {"grid_charge_enable": 0}


@pytest.fixture
def scheduled(plant, installer, simulator, v5_device, settings):
    settings.DEVICE_TIMEOUT_SECONDS = 1
    settings.DEVICE_RETRIES = 0
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    v5_device.remote_control = True
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.pk], force_info=True)
    tariff(plant, **HPHC)
    sunny(plant, 4)
    return charge_schedule_enable(plant=plant, by=installer, enabled=True)


def test_the_window_is_written_read_back_and_left_alone_when_the_same(scheduled, v5_device):
    schedule = charge_schedule_run(schedule=scheduled, night_of=TONIGHT)
    assert schedule.status == "written"
    assert {key: v5_device.settings[key] for key in schedule.window} == NIGHT_TO_60
    assert set(SettingChange.objects.values_list("outcome", flat=True)) == {"confirmed"}
    writes = SettingChange.objects.count()
    again = charge_schedule_run(schedule=schedule, night_of=TONIGHT + timedelta(days=1))
    assert again.status == "unchanged" and SettingChange.objects.count() == writes


def test_a_window_changed_by_hand_is_reported_not_overwritten(scheduled, v5_device, installer):
    schedule = charge_schedule_run(schedule=scheduled, night_of=TONIGHT)
    v5_device.settings["grid_charge_start"] = "23:30"  # someone, on the screen or in another app
    writes = SettingChange.objects.count()
    schedule = charge_schedule_run(schedule=schedule, night_of=TONIGHT + timedelta(days=1))
    assert schedule.status == "hand_changed" and schedule.found["grid_charge_start"] == "23:30"
    assert v5_device.settings["grid_charge_start"] == "23:30" and SettingChange.objects.count() == writes
    page = text(login(installer).get(reverse("economics:tariffs", args=[schedule.plant_id])))
    assert "changé par quelqu'un d'autre : non écrasé" in page and "23:30" in page


def test_a_link_lost_mid_write_never_leaves_a_half_written_window_charging(scheduled, v5_device):
    schedule = charge_schedule_run(schedule=scheduled, night_of=TONIGHT)
    DailyEnergy.objects.filter(plant=schedule.plant).update(grid_export_wh=2000)  # tomorrow: 80 %
    v5_device.drop_after_writes = 1  # charging off is written, then the line drops
    schedule = charge_schedule_run(schedule=schedule, night_of=TONIGHT + timedelta(days=1))
    assert schedule.status == "not_confirmed"
    assert v5_device.settings["grid_charge_enable"] == 0  # the old hours' window is off, not half-new
    assert v5_device.settings["grid_charge_max_soc"] == 60 and schedule.window is None
    v5_device.behaviour = Behaviour.NORMAL  # the line is back: the next run writes the whole window
    schedule = charge_schedule_run(schedule=schedule, night_of=TONIGHT + timedelta(days=2))
    assert schedule.status == "written" and v5_device.settings["grid_charge_max_soc"] == 80
    assert v5_device.settings["grid_charge_enable"] == 1


def test_the_evening_run_plans_each_night_once(scheduled):
    evening = datetime(2026, 12, 14, 20, 10, tzinfo=PARIS)
    assert charge_schedules_run_due(now=evening - timedelta(hours=2)) == 0  # not yet the evening
    assert charge_schedules_run_due(now=evening) == 1
    assert charge_schedules_run_due(now=evening + timedelta(hours=1)) == 0
    assert ChargeSchedule.objects.get().night_of == TONIGHT


def test_only_the_plants_installers_switch_it(plant, installer, customer, stranger, granted_plant):
    url = reverse("economics:charge_schedule", args=[plant.pk])
    assert login(customer).post(url, {"enabled": "1"}).status_code == 403
    assert login(stranger).post(url, {"enabled": "1"}).status_code == 404
    assert not ChargeSchedule.objects.exists()
    assert login(installer).post(url, {"enabled": "1"}).status_code == 302
    assert ChargeSchedule.objects.get().enabled


def test_an_inverter_out_of_reach_is_tried_again_the_next_hour(scheduled, v5_device):
    v5_device.behaviour = Behaviour.TIMEOUT
    evening = datetime(2026, 12, 14, 20, 10, tzinfo=PARIS)
    assert charge_schedules_run_due(now=evening) == 1
    assert ChargeSchedule.objects.get().status == "not_confirmed"
    v5_device.behaviour = Behaviour.NORMAL
    assert charge_schedules_run_due(now=evening + timedelta(hours=1)) == 1
    schedule = ChargeSchedule.objects.get()
    assert schedule.status == "written" and schedule.night_of == TONIGHT


def test_a_schedule_whose_installer_left_writes_nothing(scheduled, installer, v5_device):
    ChargeSchedule.objects.update(enabled_by=None)
    schedule = charge_schedule_run(schedule=ChargeSchedule.objects.get(), night_of=TONIGHT)
    assert schedule.status == "not_confirmed" and "n'a plus de compte" in str(schedule.answer)
    assert not SettingChange.objects.exists()
