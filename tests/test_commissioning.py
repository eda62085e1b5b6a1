"""The commissioning stepper: plant → datalogger → test → customer → finish; left and resumed."""

from django.urls import reverse

from plants.models import Plant, PlantStatus

from .conftest import attach_logger, login


def test_the_stepper_can_be_left_and_resumed(installer, plant, simulator, v5_device):
    client = login(installer)
    body = client.get(reverse("plants:list")).content.decode()
    assert "Ajouter l&#x27;enregistreur" in body or "Ajouter l'enregistreur" in body
    attach_logger(plant, v5_device, simulator)
    assert Plant.objects.get(pk=plant.pk).next_step == "test"
    assert "Tester la connexion" in client.get(reverse("plants:list")).content.decode()
    client.post(reverse("plants:commission", args=[plant.pk, "test"]))
    plant = Plant.objects.get(pk=plant.pk)
    assert plant.next_step == "customer" and plant.status == PlantStatus.ONLINE
