"""The checklist as the guide's chapters 1 to 3 imply it, per system type and battery."""

import pytest
from django.utils import translation

from commissioning.checklist import RECOMMENDED_SETTINGS, Kind, checklist_for, screen_instructions
from devices.models import Datalogger
from devices.registermap import BY_KEY
from plants.models import SystemType

pytestmark = pytest.mark.unit

BACKUP = {"dc_backup", "dc_ac_backup", "ac_backup"}
RETROFIT = {"dc_ac", "dc_ac_backup", "ac", "ac_backup"}


def keys(system_type, distance=3, loggers=()):
    items = checklist_for(
        system_type=system_type, battery_model="AURA 15KM-BG", breaker_distance_m=distance, loggers=loggers
    )
    return [i.key for i in items]


@pytest.mark.parametrize("system_type", SystemType.values)
def test_backup_types_have_the_backup_box_and_eps_and_only_they(system_type):
    items = keys(system_type)
    assert ("backup_box" in items) == (system_type in BACKUP)
    assert ("screen_eps" in items) == (system_type in BACKUP)


@pytest.mark.parametrize("system_type", SystemType.values)
def test_retrofit_types_turn_ac_coupling_on_and_only_they(system_type):
    assert ("screen_ac_coupling" in keys(system_type)) == (system_type in RETROFIT)


@pytest.mark.parametrize("system_type", SystemType.values)
def test_every_type_checks_en_50549_remote_control_the_restart_and_the_stop_order(system_type):
    items = keys(system_type)
    for key in ("auto_grid_standard", "screen_remote_control", "restart_3_minutes", "stop_order_explained"):
        assert key in items
    assert {i.key for i in screen_instructions(system_type)} <= set(items)


@pytest.mark.parametrize("system_type", SystemType.values)
def test_the_start_up_follows_the_guides_order_without_pv_steps_when_panels_are_not_on_aura(system_type):
    startup = [k for k in keys(system_type) if k.startswith("startup_")]
    full = [
        "startup_dc_breaker",
        "startup_battery_breakers",
        "startup_battery_load",
        "startup_pv_isolator",
        "startup_load_breaker",
        "startup_ac_breaker",
        "startup_generating",
    ]
    if system_type in ("ac", "ac_backup"):  # « Panneaux non raccordés sur AURA »
        full = [k for k in full if k not in ("startup_dc_breaker", "startup_pv_isolator")]
    assert startup == full


@translation.override("fr")
def test_the_wiring_is_the_clamp_under_5_m_and_the_yada_meter_from_5_m_with_their_pins():
    under = checklist_for(system_type="dc", battery_model="AURA 5KM-BG", breaker_distance_m=4.9)
    at = checklist_for(system_type="dc", battery_model="AURA 5KM-BG", breaker_distance_m=5)
    assert under[0].key == "ct_wiring" and "1" in str(under[0].detail) and "blanc" in str(under[0].detail)
    assert at[0].key == "meter_wiring"
    assert "3 et 4" in str(at[0].detail) and "5 et 6" in str(at[0].detail) and "RS485-A" in str(at[0].detail)


def test_without_a_distance_the_installer_is_asked_for_it_first():
    first = checklist_for(system_type="dc", battery_model="AURA 5KM-BG")[0]
    assert first.key == "breaker_distance" and first.kind == Kind.INPUT and not first.tickable


def test_the_battery_item_counts_the_modules_of_the_model():
    item = next(
        i for i in checklist_for(system_type="dc", battery_model="AURA 25KM-BG") if i.key == "battery_cables"
    )
    assert "5 module(s)" in str(item.detail) and "AURA 25KM-BG" in str(item.detail)


def test_the_stick_items_name_its_hotspot_and_ask_for_server_b_only_for_a_stick_that_calls_in():
    direct = Datalogger(serial_number="2355553510", reach="direct")
    hub = Datalogger(serial_number="2355553511", reach="hub")
    items = {i.key: i for i in checklist_for(system_type="dc", battery_model="AURA 5KM-BG", loggers=[direct])}
    assert "AP_2355553510" in str(items["stick_wifi"].detail) and "stick_server_b" not in items
    assert "stick_server_b" in keys("dc", loggers=[hub])


def test_automatic_items_cannot_be_ticked_and_screen_items_ask_for_a_photo():
    items = checklist_for(system_type="ac_backup", battery_model="AURA 10KM-BG", breaker_distance_m=2)
    assert all(not i.tickable for i in items if i.kind == Kind.AUTOMATIC)
    assert all(i.photo for i in items if i.kind == Kind.SCREEN)


def test_the_recommendation_is_made_of_writable_registers_within_their_ranges():
    for key, value in RECOMMENDED_SETTINGS.items():
        setting = BY_KEY[key].setting
        assert setting is not None and setting.writable
        assert BY_KEY[key].allows(value)
