"""Who may see and change a plant, in pages and API: owner company, another company, customer."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from devices.models import Datalogger
from plants import services
from plants.models import PlantGrant

from .conftest import api_for, login, make_plant


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(buffer, "PNG")
    return SimpleUploadedFile("toit.png", buffer.getvalue())


@pytest.fixture
def equipped(granted_plant, installer):
    logger = Datalogger.objects.create(
        plant=granted_plant, serial_number="2355553510", reach="direct", host="127.0.0.1"
    )
    photo = services.photo_add(plant=granted_plant, by=installer, upload=png_bytes())
    grant = PlantGrant.objects.get(plant=granted_plant)
    return granted_plant, logger, photo, grant


def test_an_installer_sees_only_their_company_plants(installer, stranger, plant, other_company):
    make_plant(other_company, name="Chez Yann")
    body = login(installer).get(reverse("plants:list")).content.decode()
    assert "Maison Martin" in body and "Chez Yann" not in body
    names = [p["name"] for p in api_for(installer).get("/api/v1/plants/").json()["results"]]
    assert names == ["Maison Martin"]


def test_another_company_gets_404_on_every_page(stranger, equipped):
    plant, logger, photo, grant = equipped
    client = login(stranger)
    for url in [
        reverse("plants:detail", args=[plant.pk]),
        reverse("plants:edit", args=[plant.pk]),
        reverse("plants:about", args=[plant.pk]),
        reverse("plants:grants", args=[plant.pk]),
        reverse("plants:photo", args=[plant.pk, photo.pk, "thumb"]),
        reverse("plants:commission", args=[plant.pk, "datalogger"]),
        reverse("plants:datalogger_move", args=[plant.pk, logger.pk]),
        reverse("plants:archive", args=[plant.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("plants:grant_revoke", args=[plant.pk, grant.pk])).status_code == 404
    assert client.post(reverse("plants:datalogger_remove", args=[plant.pk, logger.pk])).status_code == 404
    assert PlantGrant.objects.filter(pk=grant.pk).exists()


def test_another_company_gets_404_in_the_api(stranger, equipped):
    plant, logger, photo, grant = equipped
    api = api_for(stranger)
    for url in [
        f"/api/v1/plants/{plant.pk}/",
        f"/api/v1/dataloggers/{logger.pk}/",
        f"/api/v1/photos/{photo.pk}/",
        f"/api/v1/grants/{grant.pk}/",
    ]:
        assert api.get(url).status_code == 404, url
        assert api.delete(url).status_code == 404, url
    assert api.patch(f"/api/v1/plants/{plant.pk}/", {"name": "Pirate"}).status_code == 404
    plant.refresh_from_db()
    assert plant.name == "Maison Martin" and plant.archived_at is None


def test_a_customer_sees_only_granted_plants(customer, granted_plant, company):
    make_plant(company, name="Voisin")
    body = login(customer).get(reverse("plants:list")).content.decode()
    assert "Maison Martin" in body and "Voisin" not in body
    assert login(customer).get(reverse("plants:detail", args=[granted_plant.pk])).status_code == 200


def test_a_customer_can_change_nothing_in_pages(customer, equipped):
    plant, logger, photo, grant = equipped
    client = login(customer)
    assert client.get(reverse("plants:edit", args=[plant.pk])).status_code == 403
    assert client.post(reverse("plants:edit", args=[plant.pk]), {"name": "X"}).status_code == 403
    assert client.get(reverse("plants:grants", args=[plant.pk])).status_code == 403
    assert client.post(reverse("plants:about", args=[plant.pk]), {"image": png_bytes()}).status_code == 403
    assert client.post(reverse("plants:photo_delete", args=[plant.pk, photo.pk])).status_code == 403
    assert client.get(reverse("plants:commission", args=[plant.pk, "test"])).status_code == 403
    assert (
        client.post(reverse("plants:archive", args=[plant.pk]), {"confirm_name": plant.name}).status_code
        == 403
    )
    assert client.post(reverse("plants:datalogger_remove", args=[plant.pk, logger.pk])).status_code == 403
    assert client.get(reverse("plants:create")).status_code == 403
    plant.refresh_from_db()
    assert plant.archived_at is None and plant.photos.count() == 1


def test_a_customer_can_change_nothing_in_the_api(customer, equipped):
    plant, logger, photo, grant = equipped
    api = api_for(customer)
    assert api.get(f"/api/v1/plants/{plant.pk}/").status_code == 200
    assert api.patch(f"/api/v1/plants/{plant.pk}/", {"name": "X"}).status_code == 403
    assert api.delete(f"/api/v1/plants/{plant.pk}/").status_code == 403
    assert api.post("/api/v1/plants/", {"name": "X"}).status_code == 403
    assert api.post("/api/v1/dataloggers/", {"serial_number": "2355553599"}).status_code == 403
    assert api.post(f"/api/v1/dataloggers/{logger.pk}/test/").status_code == 403
    assert api.delete(f"/api/v1/photos/{photo.pk}/").status_code == 403
    assert api.get("/api/v1/grants/").status_code == 403
    plant.refresh_from_db()
    assert plant.name == "Maison Martin"


def test_revoking_a_grant_removes_access_at_once(customer, granted_plant, installer):
    client = login(customer)
    assert client.get(reverse("plants:detail", args=[granted_plant.pk])).status_code == 200
    grant = PlantGrant.objects.get()
    login(installer).post(reverse("plants:grant_revoke", args=[granted_plant.pk, grant.pk]))
    assert client.get(reverse("plants:detail", args=[granted_plant.pk])).status_code == 404
    assert api_for(customer).get(f"/api/v1/plants/{granted_plant.pk}/").status_code == 404


def test_the_api_schema_and_docs_are_served(installer):
    client = login(installer)
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.get("/api/v1/").status_code == 200


def test_a_customers_initial_password_passes_djangos_validators(installer, plant):
    api = APIClient()
    api.force_authenticate(installer)
    response = api.post(
        "/api/v1/grants/", {"plant": plant.pk, "email": "new@client.fr", "password": "password"}
    )
    assert response.status_code == 400 and "password" in response.json()


def test_an_end_customer_sees_no_logger_address_port_or_error(customer, granted_plant):
    Datalogger.objects.create(
        plant=granted_plant,
        serial_number="2355553510",
        reach="direct",
        host="203.0.113.7",
        last_error="refusé",
    )
    api = APIClient()
    api.force_authenticate(customer)
    (logger,) = api.get("/api/v1/dataloggers/").json()["results"]
    assert "host" not in logger and "port" not in logger and "last_error" not in logger
    body = login(customer).get(f"/plants/{granted_plant.pk}/").content.decode()
    assert "203.0.113.7" not in body and "refusé" not in body


def test_the_end_customer_never_sees_internal_notes(installer, customer, granted_plant):
    granted_plant.notes = "Client difficile, code portail 1234"
    granted_plant.customer_notes = "Entretien prévu en mars"
    granted_plant.save()
    body = login(customer).get(f"/plants/{granted_plant.pk}/about/").content.decode()
    assert "code portail" not in body and "Entretien prévu en mars" in body
    api = APIClient()
    api.force_authenticate(customer)
    data = api.get(f"/api/v1/plants/{granted_plant.pk}/").json()
    assert "notes" not in data and data["customer_notes"] == "Entretien prévu en mars"
    assert "code portail" in login(installer).get(f"/plants/{granted_plant.pk}/about/").content.decode()
