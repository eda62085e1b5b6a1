"""A plant's position: typed or taken from the phone on site; without one, the time zone's reference
city, and the plant's page says that night detection is approximate."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from plants.models import Plant

from .conftest import login, make_plant, text


@pytest.mark.unit
def test_a_sydney_plant_without_a_position_is_placed_at_sydney_not_at_frances_latitude():
    latitude, longitude = Plant(time_zone="Australia/Sydney").coordinates
    assert round(latitude, 1) == -33.9 and round(longitude, 1) == 151.2


@pytest.mark.unit
def test_night_in_sydney_is_sydneys_night():
    plant = Plant(time_zone="Australia/Sydney")
    # 08:00 and 19:00 in Sydney on a December day: broad daylight there, but dark at 46.5° N, where
    # a guess from the time zone's offset alone put the plant.
    assert not plant.is_plausibly_night(datetime(2026, 12, 20, 21, 0, tzinfo=UTC))
    assert not plant.is_plausibly_night(datetime(2026, 12, 21, 8, 0, tzinfo=UTC))
    # 02:00 in Sydney.
    assert plant.is_plausibly_night(datetime(2026, 12, 21, 15, 0, tzinfo=UTC))


@pytest.mark.unit
def test_a_typed_position_wins_over_the_time_zone():
    plant = Plant(time_zone="Australia/Sydney", latitude=45.76, longitude=4.84)
    assert plant.coordinates == (45.76, 4.84)


@pytest.mark.integration
def test_the_plant_page_says_when_night_detection_is_approximate(installer, company):
    plant = make_plant(company)
    body = text(login(installer).get(reverse("plants:detail", args=[plant.pk])))
    assert "Aucune position saisie" in body and "Saisir la position" in body
    placed = make_plant(company, name="Placée", latitude=45.76, longitude=4.84)
    assert "Aucune position saisie" not in text(
        login(installer).get(reverse("plants:detail", args=[placed.pk]))
    )


@pytest.mark.integration
def test_the_plant_form_offers_the_phones_position(installer):
    body = text(login(installer).get(reverse("plants:create")))
    assert "Utiliser la position de ce téléphone" in body and "data-geolocate" in body
