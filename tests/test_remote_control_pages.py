"""The remote-control pages: who may read and write, the confirmation in words, the outcome shown."""

import html
import json
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from devices import polling
from devices.models import SettingChange
from devices.simulator import Behaviour

from .conftest import attach_logger, login, text


@pytest.fixture
def inverter(granted_plant, simulator, v5_device, settings):
    settings.DEVICE_TIMEOUT_SECONDS = 1
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    logger = attach_logger(granted_plant, v5_device, simulator)
    polling.poll_loggers([logger.id], force_info=True)
    return logger.inverters.get()


def test_who_may_open_read_and_write(inverter, customer, stranger, admin_user, installer):
    page = reverse("devices:settings", args=[inverter.pk])
    read = reverse("devices:settings_read", args=[inverter.pk])
    assert login(customer).get(page).status_code == 403
    assert login(stranger).get(page).status_code == 404
    assert login(admin_user).get(page).status_code == 200
    admin_read = text(login(admin_user).post(read))  # the admin reads live, and has nothing to write with
    assert "Mode de fonctionnement" in admin_read and "Paramétrer" not in admin_read
    assert login(customer).post(read).status_code in (403, 404)
    assert "CONTRÔLE À DISTANCE" in text(login(installer).get(page))


def test_read_confirm_write_and_see_the_outcome(
    inverter, installer, v5_device, django_capture_on_commit_callbacks
):
    v5_device.remote_control = True
    client = login(installer)
    body = text(client.post(reverse("devices:settings_read", args=[inverter.pk])))
    assert "Lu sur l'onduleur" in body and "Mode de fonctionnement" in body
    current = json.dumps({"working_mode": 0, "charge_limit": 100})
    write = reverse("devices:settings_write", args=[inverter.pk])
    confirm = text(client.post(write, {"current": current, "working_mode": "2", "charge_limit": "100"}))
    assert (
        "Autoconsommation → <strong>Priorité batterie</strong>" in confirm
        and not SettingChange.objects.exists()
    )
    with django_capture_on_commit_callbacks(execute=True):
        progress = client.post(write, {"current": current, "working_mode": "2", "confirmed": "1"})
    assert progress.status_code == 200
    change = SettingChange.objects.get()
    assert change.outcome == "confirmed" and v5_device.settings["working_mode"] == 2
    shown = text(client.get(reverse("devices:setting_changes", args=[inverter.pk]), {"id": change.pk}))
    assert "confirmé" in shown and "3 minutes" in shown


def test_a_refusal_shows_the_guides_instruction(inverter, installer, django_capture_on_commit_callbacks):
    client = login(installer)
    write = reverse("devices:settings_write", args=[inverter.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            write, {"current": json.dumps({"charge_limit": 100}), "charge_limit": "60", "confirmed": "1"}
        )
    change = SettingChange.objects.get()
    shown = text(client.get(reverse("devices:setting_changes", args=[inverter.pk]), {"id": change.pk}))
    assert "refusé par l'onduleur" in shown and "2\u00a0: ACTIVER" in shown


def test_an_out_of_range_value_is_a_form_error_and_nothing_is_sent(inverter, installer, v5_device):
    body = text(
        login(installer).post(
            reverse("devices:settings_write", args=[inverter.pk]),
            {"current": "{}", "charge_limit": "150", "confirmed": "1"},
        )
    )
    assert "inférieure ou égale à 100" in body.replace("\xa0", " ")
    assert v5_device.writes == [] and not SettingChange.objects.exists()


def test_the_customer_reads_the_plants_settings_log_in_plain_words_and_as_csv(
    inverter, installer, customer, stranger, v5_device, django_capture_on_commit_callbacks
):
    v5_device.remote_control = True
    write = reverse("devices:settings_write", args=[inverter.pk])
    with django_capture_on_commit_callbacks(execute=True):
        login(installer).post(
            write, {"current": json.dumps({"working_mode": 0}), "working_mode": "2", "confirmed": "1"}
        )
    plant = inverter.datalogger.plant
    log = reverse("plants:settings_log", args=[plant.pk])
    body = text(login(customer).get(log))
    assert "a changé mode de fonctionnement de Autoconsommation à Priorité batterie — confirmé" in body
    csv_body = b"".join(login(customer).get(log, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    assert "Priorité batterie" in csv_body.splitlines()[1]
    assert login(stranger).get(log).status_code == 404
    api = APIClient()
    api.force_authenticate(customer)
    (row,) = api.get("/api/v1/setting-changes/", {"plant": plant.pk}).json()["results"]
    assert row["outcome"] == "confirmed" and row["new_value"] == 2
    api.force_authenticate(stranger)
    assert api.get("/api/v1/setting-changes/").json()["results"] == []


def test_the_live_session_reads_the_stick_itself_and_says_when_it_cannot(
    inverter, installer, customer, v5_device
):

    simulated = {"battery_soc": 77.7}
    v5_device.overrides.update(simulated)
    client = login(installer)
    assert "toutes les 5 secondes" in text(client.get(reverse("devices:live", args=[inverter.pk])))
    values = text(client.get(reverse("devices:live_values", args=[inverter.pk])))
    assert "77,7\xa0%" in values  # read now from the stick, not from stored data
    v5_device.behaviour = Behaviour.TIMEOUT
    values = text(client.get(reverse("devices:live_values", args=[inverter.pk])))
    assert "ne peut pas être joint" in values and "diagnostic" in values.lower()
    assert login(customer).get(reverse("devices:live", args=[inverter.pk])).status_code in (403, 404)


def test_the_api_reads_live_and_sets_asynchronously_with_a_status_url(
    inverter, installer, customer, stranger, v5_device, django_capture_on_commit_callbacks
):
    v5_device.remote_control = True
    api = APIClient()
    api.force_authenticate(installer)
    url = f"/api/v1/inverters/{inverter.pk}/settings/"
    assert api.get(url).json()["working_mode"] == 0
    assert api.post(url, {"changes": {"charge_limit": 0}}, format="json").status_code == 400
    assert v5_device.writes == []
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url, {"changes": {"working_mode": 2}}, format="json")
    assert response.status_code == 202
    (change,) = response.json()
    assert api.get(f"/api/v1/setting-changes/{change['id']}/").json()["outcome"] == "confirmed"
    for outsider in (customer, stranger):
        api.force_authenticate(outsider)
        assert (
            api.get(url).status_code == 404
            and api.post(url, {"changes": {}}, format="json").status_code == 404
        )


def test_the_restart_is_a_box_to_tick_confirmed_before_it_is_sent(inverter, installer, v5_device):
    v5_device.remote_control = True
    write = reverse("devices:settings_write", args=[inverter.pk])
    confirm = text(login(installer).post(write, {"current": "{}", "restart": "on"}))
    assert "Redémarrer l'onduleur" in confirm and v5_device.writes == []


def test_the_api_reads_settings_in_the_background_with_a_status_url(
    inverter, installer, stranger, v5_device, django_capture_on_commit_callbacks
):
    api = APIClient()
    api.force_authenticate(installer)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/inverters/{inverter.pk}/settings/read/")
    assert response.status_code == 202
    status = api.get(response.json()["status_url"]).json()
    assert status["status"] == "done" and status["values"]["working_mode"] == 0 and status["read_at"]
    api.force_authenticate(stranger)
    assert api.get(response.json()["status_url"]).status_code == 404


def test_the_form_as_read_writes_only_the_value_the_installer_changed(
    inverter, installer, v5_device, django_capture_on_commit_callbacks
):
    v5_device.remote_control = True
    client = login(installer)
    read = client.post(reverse("devices:settings_read", args=[inverter.pk]))
    current = html.unescape(re.search(r'name="current" value="([^"]*)"', read.content.decode()).group(1))
    posted = {
        name: field.initial
        for name, field in read.context["form"].fields.items()
        if field.initial is not None
    }
    posted.update(current=current, charge_limit="55", confirmed="1")  # as the browser sends the form
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("devices:settings_write", args=[inverter.pk]), posted)
    assert list(SettingChange.objects.values_list("key", flat=True)) == ["charge_limit"]
    assert [address for address, _word in v5_device.writes] == [3079]


def test_a_mangled_baseline_is_a_400_not_a_500(inverter, installer):
    response = login(installer).post(
        reverse("devices:settings_write", args=[inverter.pk]), {"current": "{not json", "charge_limit": "50"}
    )
    assert response.status_code == 400 and not SettingChange.objects.exists()


@pytest.mark.parametrize("value", [True, "50", 50.5, [50], {"v": 50}])
def test_a_value_of_the_wrong_json_type_is_a_400_naming_the_setting(inverter, installer, v5_device, value):
    v5_device.remote_control = True
    api = APIClient()
    api.force_authenticate(installer)
    url = f"/api/v1/inverters/{inverter.pk}/settings/"
    response = api.post(url, {"changes": {"charge_limit": value}}, format="json")
    assert response.status_code == 400 and "charge_limit" in response.json()
    assert v5_device.writes == [] and not SettingChange.objects.exists()


def test_a_baseline_of_another_type_is_neither_stored_nor_a_500_for_anyone(
    inverter, installer, customer, django_capture_on_commit_callbacks
):
    client = login(installer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("devices:settings_write", args=[inverter.pk]),
            {"current": json.dumps({"working_mode": [1, 2], "charge_limit": 100}), "working_mode": "2",
             "confirmed": "1"},
        )  # fmt: skip
    assert response.status_code == 200
    change = SettingChange.objects.get()
    assert change.old_value != [1, 2]  # the task's own read, not the client's
    for user in (installer, customer):
        assert (
            login(user).get(reverse("plants:settings_log", args=[inverter.datalogger.plant_id])).status_code
            == 200
        )
    api = APIClient()
    api.force_authenticate(installer)
    assert api.get("/api/v1/setting-changes/").status_code == 200


def test_the_guides_remote_control_instruction_is_said_once(inverter, installer):
    page = text(login(installer).get(reverse("devices:settings", args=[inverter.pk])))
    assert page.count("CONTRÔLE À DISTANCE") == 1
