"""Hostile input at the edge gets a 4xx with its reason, never a 500."""

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import api_for, login, text
from .factories import InverterFactory

HUGE = "99999999999999999999"


def test_a_nul_byte_in_a_search_is_a_400(installer, plant):
    response = login(installer).get(reverse("plants:list"), {"q": "a\x00b"})
    assert response.status_code == 400 and "NUL" in response.content.decode()
    assert api_for(installer).get("/api/v1/alarms/", {"code": "\x00"}).status_code == 400


@pytest.mark.parametrize("params", [{"limit": "9223372036854775808"}, {"offset": HUGE}])
def test_huge_page_sizes_and_offsets_are_bounded(installer, plant, params):
    assert api_for(installer).get("/api/v1/plants/", params).status_code == 200


@pytest.mark.parametrize("params", [{"limit": "-1"}, {"offset": "null"}])
def test_a_page_size_that_is_not_a_whole_number_is_a_400(installer, params):
    response = api_for(installer).get("/api/v1/plants/", params)
    assert response.status_code == 400 and list(params) == list(response.json())


@pytest.mark.parametrize("url", [f"/plants/{HUGE}/", f"/api/v1/plants/{HUGE}/", f"/alarms/{HUGE}/"])
def test_an_id_longer_than_any_is_a_404(installer, url):
    assert login(installer).get(url).status_code == 404


def test_a_huge_plant_filter_is_a_form_error(installer):
    assert login(installer).get(reverse("alarms:list"), {"plant": HUGE}).status_code == 200
    assert api_for(installer).get("/api/v1/alarms/", {"plant": HUGE}).status_code == 400


def test_a_login_name_longer_than_any_account_is_refused_calmly(db):
    response = Client().post(reverse("login"), {"username": "x" * 300, "password": "nope"})
    assert response.status_code == 200


def test_a_line_break_in_a_plant_name_is_refused_with_its_reason(installer, plant):
    response = api_for(installer).patch(
        f"/api/v1/plants/{plant.pk}/", {"name": "Maison\nMartin"}, format="json"
    )
    assert response.status_code == 400 and "une seule ligne" in response.json()["name"][0]


@pytest.mark.parametrize("name", ["plants:list", "alarms:list", "alarms:catalogue"])
def test_read_only_pages_answer_405_to_writes(installer, name):
    client = login(installer)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(reverse(name)).status_code == 405


def test_error_pages_are_in_the_sites_layout_and_language_with_a_way_back(installer):
    response = login(installer).get("/plants/999999/")
    body = response.content.decode()
    assert response.status_code == 404 and "Retour au portail" in body and 'lang="fr"' in body


def test_an_unknown_host_header_is_a_400_page(client, db):
    response = client.get("/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and "AURA" in text(response)


def test_api_errors_are_json(installer):
    response = api_for(installer).get("/api/v1/plants/not-an-id/")
    assert response.status_code == 404 and "detail" in response.json()


SUPERSCRIPT_TWO = "²"  # a digit to str.isdigit, not to int() nor PostgreSQL


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, "9" * 5000])
def test_an_id_that_is_no_number_is_ignored_not_a_500(installer, plant, value):
    inverter = _inverter(plant)
    url = reverse("devices:setting_changes", args=[inverter.pk])
    assert login(installer).get(url, {"id": value}).status_code == 200
    assert api_for(installer).get("/api/v1/setting-changes/", {"plant": value}).status_code == 200


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, "٣"])
def test_a_page_size_in_other_digits_is_a_400(installer, value):
    assert api_for(installer).get("/api/v1/plants/", {"limit": value}).status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/alarm-codes/%00/", "/plants/%00/", "/api/v1/plants/%00/"])
def test_a_nul_byte_in_the_path_is_a_400(installer, url):
    assert api_for(installer).get(url).status_code == 400


def _inverter(plant):
    return InverterFactory(datalogger__plant=plant)
