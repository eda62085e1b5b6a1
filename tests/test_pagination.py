"""Pages read from either end of a list are the pages a plain OFFSET would give."""

import pytest
from django.core.paginator import Paginator
from django.urls import reverse

from core.pagination import FromEitherEndPaginator
from plants.models import Plant

from .conftest import login, make_plants, text

pytestmark = pytest.mark.integration


@pytest.fixture
def plants(company):
    make_plants(company, [f"Maison {n % 17:02d}" for n in range(103)])
    return Plant.objects.order_by("name", "pk")


@pytest.mark.parametrize("per_page", [10, 25, 103, 200])
def test_every_page_is_the_same_from_either_end(plants, per_page):
    plain, either = Paginator(plants, per_page), FromEitherEndPaginator(plants, per_page)
    assert either.num_pages == plain.num_pages
    for number in plain.page_range:
        assert [p.pk for p in either.page(number)] == [p.pk for p in plain.page(number)], number


def test_the_plant_lists_last_page_shows_the_last_plants(installer, plants):
    body = text(login(installer).get(reverse("plants:list"), {"page": 5}))
    expected = Paginator(plants, 25).page(5)
    shown = {p.pk for p in plants if f'href="/plants/{p.pk}/"' in body}
    assert shown == {p.pk for p in expected}
