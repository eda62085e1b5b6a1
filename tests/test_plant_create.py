"""The plant form (`plant_create`): a plant created leads to the datalogger step; a missing field is
refused with its reason."""

from django.urls import reverse

from plants.models import Plant, PlantStatus

from .conftest import login

PLANT = {
    "name": "Maison Durand",
    "address": "5 rue D",
    "postcode": "69001",
    "city": "Lyon",
    "time_zone": "Europe/Paris",
    "pv_power_kwp": "6",
    "system_type": "dc_backup",
    "battery_model": "AURA 10KM-BG",
    "grid_code": "14",
}


def test_creating_a_plant_leads_to_the_datalogger_step(installer):
    response = login(installer).post(reverse("plants:create"), PLANT)
    plant = Plant.objects.get()
    assert response.url == reverse("plants:commission", args=[plant.pk, "datalogger"])
    assert plant.company == installer.company and plant.grid_code == 14
    assert Plant.objects.get(pk=plant.pk).status == PlantStatus.INCOMPLETE


def test_a_missing_required_field_is_refused_with_its_reason(installer):
    response = login(installer).post(reverse("plants:create"), {**PLANT, "system_type": ""})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not Plant.objects.exists()
