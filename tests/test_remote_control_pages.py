"""The remote-control pages: who may read and write, the confirmation in words, the outcome shown."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from devices import polling
from devices.models import SettingChange

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
    admin_page = login(admin_user).get(page)
    assert admin_page.status_code == 200 and read not in admin_page.content.decode()  # reads, no live read
    assert login(admin_user).post(read).status_code == 403
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
    assert "refusé par l'onduleur" in shown and "2 : ACTIVER" in shown


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
