import pytest
from django.test import Client
from django.urls import reverse

from portal.models import ProAccountRequest

GOOD = {
    "company_name": "Élec Breizh",
    "address": "8 rue du Port, Brest",
    "mobile_phone": "0698765432",
    "email": "contact@elecbreizh.fr",
    "login": "elecbreizh",
    "agency": "Téréva Brest",
    "customer_account_number": "C42424",
}


@pytest.mark.django_db
@pytest.mark.parametrize("bad_login", ["jean dupont", "jean@x", "jean-dupont", ""])
def test_it_refuses_a_login_with_spaces_or_special_characters(client, bad_login):
    response = client.post(reverse("account_request"), {**GOOD, "login": bad_login})
    assert response.status_code == 200
    assert ProAccountRequest.objects.count() == 0
    if bad_login:
        assert "lettres et des chiffres" in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_an_email_already_used_by_an_account(client, installer):
    response = client.post(reverse("account_request"), {**GOOD, "email": installer.email.upper()})
    assert "utilise déjà cet e-mail" in response.content.decode()
    assert ProAccountRequest.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_login_already_requested(client):
    client.post(reverse("account_request"), GOOD)
    response = client.post(
        reverse("account_request"), {**GOOD, "email": "autre@elec.fr", "login": "ElecBreizh"}
    )
    assert "déjà pris" in response.content.decode()
    assert ProAccountRequest.objects.count() == 1


@pytest.mark.django_db
def test_it_stores_a_valid_request_as_pending_and_tells_the_distributor(client, settings):
    settings.DISTRIBUTOR_EMAIL = "compte@distributeur.fr"
    response = client.post(reverse("account_request"), GOOD)
    assert response.status_code == 200
    req = ProAccountRequest.objects.get()
    assert req.status == ProAccountRequest.Status.PENDING
    assert "Élec Breizh" in response.content.decode()


def test_abc_as_a_mobile_phone_is_refused_with_a_clear_message(db):

    response = Client().post(reverse("account_request"), {"mobile_phone": "abc"})
    assert "numéro de téléphone valable" in response.content.decode()
