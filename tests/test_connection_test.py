"""The commissioning step's connection test over TCP to the simulator: what it read, why it failed,
a wrong serial, a battery other than the declared one."""

from django.urls import reverse

from devices.models import Datalogger, DeviceStatus, Inverter
from plants.models import BatteryModel, Plant

from .conftest import attach_logger, awake_inverter, login, make_plant, text


def test_the_connection_test_reads_the_inverter_through_the_simulator(installer, plant, simulator, v5_device):
    attach_logger(plant, v5_device, simulator)
    response = login(installer).post(reverse("plants:commission", args=[plant.pk, "test"]))
    body = response.content.decode()
    assert "AU7700001" in body and "BluE-S 6000D" in body and "En ligne" in body
    logger = Datalogger.objects.get()
    assert logger.status == DeviceStatus.ONLINE and logger.inverters.get().serial_number == "AU7700001"
    assert Plant.objects.get(pk=plant.pk).next_step == "customer"


def test_the_connection_test_says_why_it_failed(installer, plant, simulator, settings):
    settings.DEVICE_TIMEOUT_SECONDS = 0.5
    Datalogger.objects.create(
        plant=plant, serial_number="2355553510", reach="direct", host="127.0.0.1", port=1
    )
    body = login(installer).post(reverse("plants:commission", args=[plant.pk, "test"])).content.decode()
    assert "Aucun enregistreur n&#x27;a répondu à cette adresse" in body


def test_the_connection_test_names_a_wrong_serial(installer, plant, simulator):
    Datalogger.objects.create(
        plant=plant, serial_number="1111111111", reach="direct", host="127.0.0.1", port=simulator.v5_port
    )
    body = login(installer).post(reverse("plants:commission", args=[plant.pk, "test"])).content.decode()
    assert "autre numéro de série" in body


def test_a_battery_other_than_the_declared_one_is_said_at_the_test_step(installer, company, simulator):
    plant = make_plant(company, name="Grande maison", battery_model=BatteryModel.AURA_25)
    device = simulator.add_v5(awake_inverter(2355550912, "AU0550912", battery_kwh=10))
    try:
        attach_logger(plant, device, simulator)
        body = text(login(installer).post(reverse("plants:commission", args=[plant.pk, "test"])))
        assert "«\u00a0AURA 10KM-BG\u00a0»" in body
        assert "déclarée AURA 25KM-BG" in body
        client = login(installer)
        assert "déclarée" in text(client.get(reverse("plants:detail", args=[plant.pk])))
        inverter = Inverter.objects.get(datalogger__plant=plant)
        client.post(reverse("plants:battery_confirm", args=[plant.pk, inverter.pk]))
        assert "déclarée" not in text(client.get(reverse("plants:detail", args=[plant.pk])))
    finally:
        simulator.v5_devices.pop(device.logger_serial, None)


def test_an_unknown_battery_name_format_raises_no_warning(plant):
    assert plant.battery_mismatch(Inverter(battery_name="LFP-51.2V")) is None
    assert plant.battery_mismatch(Inverter(battery_name="AURA 10KM-BG")) is None  # as declared
