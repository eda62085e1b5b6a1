"""Attaching a stick by its SN (`datalogger_attach`, page and API): malformed SNs, another company's
stick, one already in the company, refused with the same words everywhere."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from devices.models import Datalogger

from .conftest import login, make_plant


def logger_form(sn, port=8899):
    return {
        "serial_number": sn,
        "reach": "direct",
        "protocol": "solarman_v5",
        "host": "127.0.0.1",
        "port": port,
        "unit_id": 1,
    }


@pytest.mark.parametrize("sn", ["23555535", "2355 553510", "AP_2355553510", "9999999999"])
def test_a_malformed_sn_is_refused_with_its_reason(installer, plant, sn):
    response = login(installer).post(
        reverse("plants:commission", args=[plant.pk, "datalogger"]), logger_form(sn)
    )
    assert response.status_code == 200
    assert "numéro de série" in response.content.decode()
    assert not Datalogger.objects.exists()


def test_an_sn_of_another_company_is_refused_without_revealing_its_plant(installer, plant, other_company):
    theirs = make_plant(other_company, name="Secret Yann")
    Datalogger.objects.create(plant=theirs, serial_number="2355553510", reach="direct", host="10.0.0.9")
    response = login(installer).post(
        reverse("plants:commission", args=[plant.pk, "datalogger"]), logger_form("2355553510")
    )
    body = response.content.decode()
    assert "déjà enregistré" in body and "Secret Yann" not in body
    assert Datalogger.objects.get().plant == theirs


def test_an_sn_of_the_same_company_points_to_move(installer, plant, company):
    other = make_plant(company, name="Chez Paul")
    Datalogger.objects.create(plant=other, serial_number="2355553510", reach="direct", host="10.0.0.9")
    response = login(installer).post(
        reverse("plants:commission", args=[plant.pk, "datalogger"]), logger_form("2355553510")
    )
    assert "Chez Paul" in response.content.decode()
    assert Datalogger.objects.get().plant == other


def test_the_api_refuses_a_duplicate_sn_with_the_same_words(installer, plant, other_company):
    Datalogger.objects.create(plant=make_plant(other_company, name="Secret"), serial_number="2355553510")
    api = APIClient()
    api.force_authenticate(installer)
    response = api.post("/api/v1/dataloggers/", {"plant": plant.pk, **logger_form("2355553510")})
    assert response.status_code == 400
    assert "déjà enregistré" in str(response.json()["serial_number"])
    assert "Secret" not in str(response.json())
