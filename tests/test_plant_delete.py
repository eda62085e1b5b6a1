"""Deleting a plant (`plant_archive`): confirmed first, its history kept."""

from django.urls import reverse

from .conftest import login


def test_deleting_a_plant_is_confirmed_and_keeps_its_history(installer, plant, admin_user):
    client = login(installer)
    client.post(reverse("plants:archive", args=[plant.pk]), {"confirm_name": "wrong"})
    plant.refresh_from_db()
    assert plant.archived_at is None
    client.post(reverse("plants:archive", args=[plant.pk]), {"confirm_name": "Maison Martin"})
    plant.refresh_from_db()
    assert plant.archived_at is not None
    assert client.get(reverse("plants:detail", args=[plant.pk])).status_code == 404
    assert login(admin_user).get(reverse("plants:detail", args=[plant.pk])).status_code == 200
