"""One filterset per list: page and API filter alike; bad input is a 400 with its reason, a form error
on the page; the filters are in the OpenAPI schema; page 2 keeps them."""

from django.urls import reverse

from devices.models import Datalogger, Inverter
from plants.models import Plant, PlantStatus
from plants.services import plant_archive

from .conftest import api_for, login, make_plant, text


def test_a_bogus_status_is_a_400_with_its_reason_in_the_api(installer, plant):
    response = api_for(installer).get("/api/v1/plants/", {"status": "bogus"})
    assert response.status_code == 400 and "status" in response.json()


def test_a_bogus_status_is_a_form_error_on_the_page_and_lists_nothing(installer, plant):
    response = login(installer).get(reverse("plants:list"), {"status": "bogus"})
    body = text(response)
    assert response.status_code == 200 and "choix valide" in body and "Maison Martin" not in body


def test_a_bad_date_on_readings_is_a_400(installer, plant):
    logger = Datalogger.objects.create(
        plant=plant, serial_number="2355553510", reach="direct", host="192.0.2.1"
    )
    inverter = Inverter.objects.create(datalogger=logger, serial_number="AU1")
    response = api_for(installer).get(f"/api/v1/inverters/{inverter.pk}/readings/", {"since": "yesterday"})
    assert response.status_code == 400 and "since" in response.json()


def test_a_bad_date_on_alarms_is_a_400(installer, plant):
    response = api_for(installer).get("/api/v1/alarms/", {"since": "yesterday"})
    assert response.status_code == 400 and "since" in response.json()


def test_the_filters_are_in_the_openapi_schema(installer):
    schema = api_for(installer).get(reverse("api-schema"), {"format": "json"}).json()
    names = {p["name"] for p in schema["paths"]["/api/v1/plants/"]["get"]["parameters"]}
    assert {"q", "status", "system_type", "city"} <= names
    names = {p["name"] for p in schema["paths"]["/api/v1/alarms/"]["get"]["parameters"]}
    assert {"code", "kind", "state", "since", "until"} <= names
    readings = schema["paths"]["/api/v1/inverters/{id}/readings/"]["get"]["parameters"]
    assert {"since", "until"} <= {p["name"] for p in readings}


def test_page_two_keeps_the_filters(installer, company):
    for i in range(30):
        make_plant(company, name=f"Ferme {i:02d}", city="Rennes")
    make_plant(company, name="Ailleurs", city="Brest")
    body = login(installer).get(reverse("plants:list"), {"city": "rennes"}).content.decode()
    assert "city=rennes&amp;page=2" in body


def test_the_page_and_the_api_total_what_each_filter_lists(installer, company, other_company, customer):
    """Totals with no filter or a status come from the fleet counters, others from a count: the same
    numbers either way, and never another company's plants."""
    for i in range(4):
        make_plant(company, name=f"Ferme {i}", city="Rennes" if i % 2 else "Brest")
    make_plant(other_company, name="Chez d'autres", city="Rennes")
    Plant.objects.filter(name="Ferme 1").update(status=PlantStatus.OFFLINE)
    archived = make_plant(company, name="Archivée")
    plant_archive(plant=archived, by=installer)
    expected = [({}, 4), ({"status": "offline"}, 1), ({"status": "online"}, 0), ({"city": "rennes"}, 2),
                ({"status": "incomplete", "city": "brest"}, 2), ({"q": "ferme 3"}, 1)]  # fmt: skip
    for query, total in expected:
        page = login(installer).get(reverse("plants:list"), query).context["page"]
        assert page.paginator.count == total, query
        assert api_for(installer).get("/api/v1/plants/", query).json()["count"] == total, query
    assert api_for(customer).get("/api/v1/plants/").json()["count"] == 0


def test_the_fleet_list_filters_by_status_and_city(installer, plant, company):
    make_plant(company, name="Ferme Bretonne", city="Rennes")
    client = login(installer)
    body = client.get(reverse("plants:list"), {"city": "renn"}).content.decode()
    assert "Ferme Bretonne" in body and "Maison Martin" not in body
    body = client.get(reverse("plants:list"), {"status": "online"}).content.decode()
    assert "Ferme Bretonne" not in body
