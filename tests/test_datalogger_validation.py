"""A datalogger is validated by its model: the page and the API refuse the same input in the same words."""

import ipaddress

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from devices.models import Datalogger

from .conftest import login, text


def api_post(user, data):
    api = APIClient()
    api.force_authenticate(user)
    return api.post("/api/v1/dataloggers/", data, format="json")


def page_post(user, plant, data):
    url = reverse("plants:commission", args=[plant.pk, "datalogger"])
    return text(login(user).post(url, data))


BASE = {
    "serial_number": "2355553510",
    "reach": "direct",
    "protocol": "solarman_v5",
    "host": "192.0.2.10",
    "port": 8899,
    "unit_id": 1,
}


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("port", 70000, "inférieure ou égale à 65535"),
        ("port", 0, "supérieure ou égale à 1"),
        ("unit_id", 300, "inférieure ou égale à 247"),
        ("host", "http://evil", "adresse IP ou le nom d"),
        ("host", "a b", "adresse IP ou le nom d"),
        ("host", "10.1.2.3", "plage privée ou réservée"),
    ],
)
def test_the_page_and_the_api_refuse_the_same_logger_with_the_same_words(
    installer, plant, settings, field, value, words
):
    settings.DATALOGGER_ALLOWED_NETWORKS = []
    data = {**BASE, field: value}
    assert words in page_post(installer, plant, data).replace("\xa0", " ")
    response = api_post(installer, {**data, "plant": plant.pk})
    assert response.status_code == 400 and words in response.content.decode().replace("\xa0", " ")
    assert not Datalogger.objects.exists()


def test_an_empty_host_is_refused(installer, plant):
    response = api_post(installer, {**BASE, "host": "", "plant": plant.pk})
    assert response.status_code == 400 and "adresse" in response.content.decode()


def test_a_listed_vpn_range_is_allowed(installer, plant, settings):
    settings.DATALOGGER_ALLOWED_NETWORKS = [ipaddress.ip_network("10.8.0.0/16")]
    response = api_post(installer, {**BASE, "host": "10.8.3.4", "plant": plant.pk})
    assert response.status_code == 201
