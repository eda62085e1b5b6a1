"""The inverter page and the device API: live values with units, history, and who may see them."""

from django.urls import reverse

from devices import polling
from devices.models import Reading

from .conftest import api_for, attach_logger, login, text


def test_the_inverter_page_lists_live_values_with_units(installer, plant, simulator, v5_device, settings):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    v5_device.overrides = {"grid_voltage": 231.4, "battery_soc": 55.5}
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])
    inverter = logger.inverters.get()
    body = text(login(installer).get(reverse("devices:inverter", args=[inverter.pk])))
    assert "Tension réseau" in body and "231,4\xa0V" in body and "55,5\xa0%" in body
    # Enums are words, never raw numbers.
    assert "Sur réseau (hybride)" in body and "Autoconsommation" in body and "BluE-S 6000D" in body


def test_the_inverter_api_gives_enum_words_in_the_requests_language(installer, plant, simulator, v5_device):
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])
    inverter = logger.inverters.get()
    api = api_for(installer)
    values = {
        v["key"]: v
        for v in api.get(f"/api/v1/inverters/{inverter.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()["values"]
    }
    assert values["system_status"]["value"] == 2 and values["system_status"]["text"] == "On grid (hybrid)"
    assert values["working_mode"]["text"] == "Self-use"
    values = {
        v["key"]: v
        for v in api.get(f"/api/v1/inverters/{inverter.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()["values"]
    }
    assert values["working_mode"]["text"] == "Autoconsommation"


def test_a_grid_sign_that_disagrees_with_the_counters_is_flagged_on_the_inverter_page(
    installer, plant, simulator, v5_device
):
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id])
    inverter = logger.inverters.get()
    day = inverter.grid_sign_check["day"]
    importing = {"grid_import_today": 1.0, "grid_export_today": 0.0, "grid_power": -800}  # sign says export
    for step in range(4):
        before = {**importing, "grid_import_today": 1.0 + step / 10}
        after = {**importing, "grid_import_today": 1.1 + step / 10}
        inverter.observe_grid_sign(before, after, day)
    inverter.save()
    body = text(login(installer).get(reverse("devices:inverter", args=[inverter.pk])))
    assert "contredisait les compteurs" in body


def test_history_and_test_endpoint_in_the_api(
    installer, stranger, customer, granted_plant, simulator, v5_device, settings
):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    logger = attach_logger(granted_plant, v5_device, simulator)
    response = api_for(installer).post(f"/api/v1/dataloggers/{logger.pk}/test/")
    assert response.status_code == 200 and response.json()["ok"] is True
    assert response.json()["datalogger"]["inverters"][0]["serial_number"] == "AU7700001"
    inverter = logger.inverters.get()
    assert Reading.objects.filter(inverter=inverter).count() == 1
    readings = api_for(customer).get(f"/api/v1/inverters/{inverter.pk}/readings/").json()["results"]
    assert len(readings) == 1 and "pv_power" in readings[0]
    assert api_for(stranger).get(f"/api/v1/inverters/{inverter.pk}/readings/").status_code == 404
    assert api_for(stranger).post(f"/api/v1/dataloggers/{logger.pk}/test/").status_code == 404
    assert login(stranger).get(reverse("devices:inverter", args=[inverter.pk])).status_code == 404


def test_the_alarm_words_are_named_not_shown_as_numbers(installer, plant, simulator, v5_device, settings):
    settings.DEVICE_TIMEOUT_SECONDS = 0.5
    v5_device.warning_bits = (1 << 0) | (1 << 28)
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.pk])
    inverter = logger.inverters.get()
    page = text(login(installer).get(reverse("devices:inverter", args=[inverter.pk])))
    assert "W00 " in page and "W28 " in page and "268435457" not in page
    english = api_for(installer).get(f"/api/v1/inverters/{inverter.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    faults = next(v for v in english["values"] if v["key"] == "fault_bits")
    assert faults["text"] == "none" and faults["value"] == 0
