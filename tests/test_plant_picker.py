"""Plant pickers are search fields: a page never lists the whole fleet, a search shows at most 20 of
the installer's own plants, and what was picked stays picked."""

import pytest
from django.urls import reverse

from devices.models import Datalogger
from plants.models import Plant

from .conftest import login, make_plant, make_plants, text
from .factories import DataloggerFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def fleet(company):
    make_plants(company, [f"Maison {n:03d}" for n in range(60)])


def test_the_move_page_lists_no_plant_until_searched(installer, plant, fleet):
    logger = DataloggerFactory(plant=plant)
    body = text(login(installer).get(reverse("plants:datalogger_move", args=[plant.pk, logger.pk])))
    assert "Maison 001" not in body and 'hx-get="/plants/pick/"' in body


def test_a_search_shows_at_most_20_of_the_installers_own_plants(installer, fleet, other_company):
    make_plant(other_company, name="Maison étrangère")
    body = text(login(installer).get(reverse("plants:pick"), {"field": "to_plant", "to_plant__q": "maison"}))
    assert body.count('name="to_plant"') == 20 and "Maison étrangère" not in body
    assert "tapez davantage" in body.lower() or "Tapez" in body


def test_picked_plants_stay_checked_through_a_new_search(installer, fleet):
    first = Plant.objects.get(name="Maison 007")
    body = text(
        login(installer).get(
            reverse("plants:pick"),
            {"field": "plants", "plants": [first.pk], "plants__q": "Maison 05", "multiple": "1"},
        )
    )
    assert f'value="{first.pk}" checked' in body and "Maison 050" in body and 'type="checkbox"' in body


def test_moving_by_the_picker_posts_the_plants_id_and_refuses_another_companys(
    installer, plant, company, other_company
):
    logger = DataloggerFactory(plant=plant)
    there = make_plant(company, name="Là-bas")
    theirs = make_plant(other_company, name="Chez eux")
    client = login(installer)
    client.post(reverse("plants:datalogger_move", args=[plant.pk, logger.pk]), {"to_plant": theirs.pk})
    assert Datalogger.objects.get().plant == plant
    client.post(reverse("plants:datalogger_move", args=[plant.pk, logger.pk]), {"to_plant": there.pk})
    assert Datalogger.objects.get().plant == there


def test_customers_get_no_picker(customer):
    assert login(customer).get(reverse("plants:pick"), {"field": "x", "x__q": "a"}).status_code == 403
