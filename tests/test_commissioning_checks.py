"""The checklist's automatic items, over real TCP to the simulated inverter: what was read, when,
and whether it passes; applying the recommended settings through the remote-control path."""

import pytest
from django.urls import reverse
from django.utils import translation

from commissioning import services
from commissioning.checks import checklist_of
from devices import polling, remote
from devices.models import SettingChange
from devices.registermap import BY_KEY

from .commissioning_steps import ready_but, stick_read
from .conftest import login, text

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01


def results(plant):
    with translation.override("en"):
        return checklist_of(plant).results


def test_a_plant_read_once_passes_what_one_read_can_prove_and_waits_for_the_rest(plant, simulator, v5_device):
    stick_read(plant, v5_device, simulator)
    r = results(plant)
    for key in (
        "auto_logger",
        "auto_identity",
        "auto_grid_standard",
        "auto_battery",
        "auto_settings",
        "auto_no_fault",
    ):
        assert r[key].passed, (key, r[key].said)
    assert "AU7700001" in r["auto_identity"].said and "BluE-S 6000D" in r["auto_identity"].said
    assert "EN 50549" in r["auto_grid_standard"].said and r["auto_grid_standard"].at is not None
    assert r["auto_ct_direction"].state == "pending" and r["auto_first_day"].state == "pending"


def test_another_grid_standard_fails_until_the_installer_records_why(plant, simulator, v5_device):
    v5_device.grid_standard = 10  # "France", the older list entry
    stick_read(plant, v5_device, simulator)
    assert results(plant)["auto_grid_standard"].state == "failed"
    plant.grid_code = 10
    plant.save()
    services.site_update(plant=plant, grid_standard_reason="Contrat ancien, norme imposée par Enedis")
    result = results(plant)["auto_grid_standard"]
    assert result.passed and "Enedis" in result.said


def test_a_battery_the_inverter_does_not_name_as_declared_fails_the_identity(plant, simulator, v5_device):
    v5_device.battery_kwh = 5  # the stick says AURA 5KM-BG; the plant declares AURA 10KM-BG
    stick_read(plant, v5_device, simulator)
    result = results(plant)["auto_identity"]
    assert result.state == "failed" and "AURA 5KM-BG" in result.said and "AURA 10KM-BG" in result.said


def test_an_active_fault_and_a_bms_warning_fail_their_items_with_the_codes(plant, simulator, v5_device):
    v5_device.raise_codes("F13", "W20")
    stick_read(plant, v5_device, simulator)
    r = results(plant)
    assert r["auto_no_fault"].state == "failed" and "F13" in r["auto_no_fault"].said
    assert r["auto_battery"].state == "failed" and "W20" in r["auto_battery"].said


def test_a_clamp_mounted_backwards_fails_the_ct_item_with_the_values_that_show_it(
    plant, simulator, v5_device
):
    # The house imports 1.5 kW (the import counter grows) while the reversed clamp reads an export.
    v5_device.ct_reversed = True
    v5_device.overrides = {"grid_power_l1": 1500, "grid_current": 6.5}
    logger, _inverter = stick_read(plant, v5_device, simulator)
    for _poll in range(3):
        v5_device.counters["grid_import_today"] += 0.2
        polling.poll_loggers([logger.id])
    result = results(plant)["auto_ct_direction"]
    assert result.state == "failed"
    assert (
        "0 poll(s) where the grid power's sign agreed" in result.said and "3 where it did not" in result.said
    )
    assert "reversed" in result.said


def test_a_clamp_mounted_right_passes_and_stays_proven_after_midnight(plant, simulator, v5_device, installer):
    v5_device.overrides = {"grid_power_l1": 1500, "grid_current": 6.5}
    logger, inverter = stick_read(plant, v5_device, simulator)
    for _poll in range(3):
        v5_device.counters["grid_import_today"] += 0.2
        polling.poll_loggers([logger.id])
    assert services.checklist_refresh(plant=plant).results["auto_ct_direction"].passed
    # The next day's evidence starts from nothing: the proof is kept.
    inverter.refresh_from_db()
    type(inverter).objects.filter(pk=inverter.pk).update(
        grid_sign_check={"day": "2099-01-01", "agree": 0, "disagree": 0}
    )
    assert results(plant)["auto_ct_direction"].passed


def test_applying_the_recommendation_writes_exactly_the_differing_registers_and_logs_each(
    plant, simulator, v5_device, installer, django_capture_on_commit_callbacks
):
    v5_device.remote_control = True
    v5_device.settings.update(working_mode=2, grid_charge_enable=1)  # battery priority, grid charging on
    stick_read(plant, v5_device, simulator)
    assert results(plant)["auto_settings"].state == "failed"
    v5_device.writes.clear()
    with django_capture_on_commit_callbacks(execute=True):
        changes = services.recommendation_request(plant=plant, by=installer)
        from commissioning import tasks  # noqa: PLC0415

        tasks.apply_recommendation.delay_on_commit(
            [c.pk for c in changes], [changes[0].inverter.datalogger_id]
        )
    written = {address for address, _word in v5_device.writes}
    assert written == {BY_KEY["working_mode"].address, BY_KEY["grid_charge_enable"].address}
    log = {c.key: (c.old_value, c.new_value, c.outcome) for c in SettingChange.objects.filter(plant=plant)}
    assert log == {"working_mode": (2, 0, "confirmed"), "grid_charge_enable": (1, 0, "confirmed")}
    assert results(plant)["auto_settings"].passed


def test_with_writes_refused_nothing_is_claimed_and_the_installer_gets_the_screen_instruction(
    plant, simulator, v5_device, installer, django_capture_on_commit_callbacks
):
    v5_device.settings.update(working_mode=1)  # remote control is off on the screen
    stick_read(plant, v5_device, simulator)
    with django_capture_on_commit_callbacks(execute=True):
        changes = services.recommendation_request(plant=plant, by=installer)
        remote.setting_changes_apply(change_ids=[c.pk for c in changes])
    change = SettingChange.objects.get(plant=plant)
    assert change.outcome == "refused" and v5_device.settings["working_mode"] == 1
    with translation.override("fr"):
        assert "CONTRÔLE À DISTANCE" in str(change.answer)
    assert results(plant)["auto_settings"].state == "failed"
    page = text(login(installer).get(reverse("plants:commission", args=[plant.pk, "finish"])))
    assert "CONTRÔLE À DISTANCE" in page and "refusé par l" in page


def test_the_first_full_day_passes_once_the_day_after_the_first_read_is_over_with_history(
    plant, simulator, v5_device, installer, customer
):
    ready_but(plant, v5_device, simulator, installer=installer, customer=customer)
    result = results(plant)["auto_first_day"]
    assert result.passed and "1 reading stored" in result.said
