"""The firmware inventory: the fleet's inverters by ARM / DSP version with counts, a link to their
plants and the distributor's note; an event when an inverter's versions change (read by a real poll
of the simulator)."""

import pytest
from django.urls import reverse

from devices import polling
from devices.models import FirmwareNote, Inverter
from integrations.models import Event

from .conftest import attach_logger, login, make_plant, text
from .factories import InverterFactory


@pytest.fixture(autouse=True)
def fast_devices(settings):
    settings.DEVICE_TIMEOUT_SECONDS = 0.5
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01


def inverter_on(plant, arm, dsp):
    return InverterFactory(datalogger__plant=plant, firmware_arm=arm, firmware_dsp=dsp)


@pytest.fixture
def fleet(company, other_company):
    plants = [make_plant(company, name=f"Centrale {n}") for n in range(3)]
    inverter_on(plants[0], "1.2.3", "2.0.7")
    inverter_on(plants[1], "1.2.3", "2.0.7")
    inverter_on(plants[1], "1.2.3", "2.0.7")  # a second inverter on the same plant
    inverter_on(plants[2], "1.3.0", "2.0.7")
    ended = inverter_on(plants[2], "1.0.0", "1.0.0")
    Inverter.objects.filter(pk=ended.pk).update(ended_at=ended.first_seen_at)  # replaced: not counted
    inverter_on(make_plant(other_company, name="Ailleurs"), "9.9.9", "9.9.9")
    return plants


def test_an_installer_sees_their_fleet_by_version_with_counts(installer, fleet):
    response = login(installer).get(reverse("devices:firmware"))
    assert response.status_code == 200
    rows = list(Inverter.objects.restrict(installer).firmware_inventory())
    assert [(r["firmware_arm"], r["firmware_dsp"], r["inverters"], r["plants"]) for r in rows] == [
        ("1.2.3", "2.0.7", 3, 2),
        ("1.3.0", "2.0.7", 1, 1),
    ]
    page = text(response)
    assert "9.9.9" not in page and "1.0.0" not in page  # another company's; a replaced inverter


def test_each_version_links_to_its_plants(installer, fleet):
    client = login(installer)
    page = text(client.get(reverse("devices:firmware")))
    assert "?firmware=1.3.0/2.0.7" in page
    plants = text(client.get(reverse("plants:list"), {"firmware": "1.3.0/2.0.7"}))
    assert "Centrale 2" in plants and "Centrale 0" not in plants and "Centrale 1" not in plants


def test_the_distributor_keeps_a_note_per_version_that_installers_read(admin_user, installer, fleet):
    response = login(admin_user).post(
        reverse("devices:firmware_note"),
        {"firmware_arm": "1.2.3", "firmware_dsp": "2.0.7", "text": "Mettre à jour : export limité faux."},
    )
    assert response.status_code == 302
    assert "export limité faux" in text(login(installer).get(reverse("devices:firmware")))
    login(admin_user).post(
        reverse("devices:firmware_note"), {"firmware_arm": "1.2.3", "firmware_dsp": "2.0.7", "text": " "}
    )
    assert not FirmwareNote.objects.exists()


def test_an_installer_cannot_write_a_note_and_a_customer_has_no_inventory(installer, customer, granted_plant):
    response = login(installer).post(
        reverse("devices:firmware_note"), {"firmware_arm": "1.2.3", "firmware_dsp": "2.0.7", "text": "x"}
    )
    assert response.status_code == 403 and not FirmwareNote.objects.exists()
    assert login(customer).get(reverse("devices:firmware")).status_code == 403


def test_a_firmware_update_read_by_a_poll_is_an_event_the_first_read_is_not(
    installer, plant, simulator, v5_device
):
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.pk], force_info=True)
    inverter = logger.inverters.get()
    assert (inverter.firmware_arm, inverter.firmware_dsp) == ("1.2.3", "2.0.7")
    assert not Event.objects.filter(kind="inverter.firmware_changed").exists()
    v5_device.overrides = {"firmware_arm": "1.3.0"}
    polling.poll_loggers([logger.pk], force_info=True)
    (event,) = Event.objects.filter(kind="inverter.firmware_changed")
    assert event.data["from"] == {"arm": "1.2.3", "dsp": "2.0.7"}
    assert event.data["to"] == {"arm": "1.3.0", "dsp": "2.0.7"} and event.plant_id == plant.pk
    assert inverter.serial_number in text(
        login(installer).get(reverse("devices:inverter", args=[inverter.pk]))
    )
