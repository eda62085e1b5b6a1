"""The plant form's time zone: a search field (`time_zones`) instead of a drop-down of every zone;
the form still takes only a known zone."""

import re

from django.urls import reverse

from plants.models import Plant

from .conftest import login, text
from .test_plant_create import PLANT


def options(response):
    return re.findall(r'<option value="([^"]+)">', text(response))


def test_typing_part_of_a_name_finds_the_zone(installer):
    found = options(login(installer).get(reverse("plants:time_zones"), {"time_zone": "par"}))
    assert "Europe/Paris" in found and all("par" in zone.lower() for zone in found)
    assert options(login(installer).get(reverse("plants:time_zones"), {"time_zone": "port of s"})) == [
        "America/Port_of_Spain"
    ]  # a space stands for the zone's underscore


def test_nothing_typed_or_a_hostile_search_finds_nothing_and_breaks_nothing(installer):
    client = login(installer)
    assert options(client.get(reverse("plants:time_zones"))) == []
    assert options(client.get(reverse("plants:time_zones"), {"time_zone": "x" * 100_000})) == []
    response = client.get(reverse("plants:time_zones"), {"time_zone": "par\x00is"})
    assert response.status_code == 400  # a NUL byte: refused clearly at the edge


def test_the_form_carries_a_search_field_not_every_zone(installer):
    page = text(login(installer).get(reverse("plants:create")))
    assert 'name="time_zone" value="Europe/Paris"' in page and 'list="time-zone-matches"' in page
    assert page.count("<option") < 50  # not the 550 zones (40 kB) on every plant form


def test_an_unknown_zone_is_refused_with_its_reason(installer):
    response = login(installer).post(reverse("plants:create"), {**PLANT, "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text(response)
    assert not Plant.objects.exists()
