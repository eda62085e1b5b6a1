import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ProAccountRequest

from .conftest import login

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
def test_an_email_already_used_is_not_revealed_but_flagged_to_the_admin(client, installer, admin_user):
    fresh = client.post(
        reverse("account_request"), {**GOOD, "email": "nouveau@elec.fr", "login": "nouveau"}, follow=True
    )
    taken = client.post(reverse("account_request"), {**GOOD, "email": installer.email.upper()}, follow=True)
    assert taken.status_code == fresh.status_code == 200
    assert "transmise au distributeur" in taken.content.decode()  # the same answer as for a new e-mail
    request = ProAccountRequest.objects.get(email=installer.email.upper())
    body = login(admin_user).get(reverse("account_request_detail", args=[request.pk])).content.decode()
    assert "Un compte utilise déjà cet e-mail" in body and "même numéro de compte client" in body


def test_a_second_request_with_the_same_email_is_answered_alike_and_not_stored_twice(client, db):
    client.post(reverse("account_request"), GOOD)
    again = client.post(reverse("account_request"), {**GOOD, "login": "autre"}, follow=True)
    assert "transmise au distributeur" in again.content.decode()
    assert ProAccountRequest.objects.count() == 1


def test_the_form_is_rate_limited_per_address(client, db):
    for i in range(10):
        client.post(reverse("account_request"), {**GOOD, "login": f"x{i}", "email": f"x{i}@elec.fr"})
    response = client.post(reverse("account_request"), {**GOOD, "login": "last", "email": "last@elec.fr"})
    assert "Trop de demandes" in response.content.decode()


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
    response = client.post(reverse("account_request"), GOOD, follow=True)
    assert response.status_code == 200
    req = ProAccountRequest.objects.get()
    assert req.status == ProAccountRequest.Status.PENDING
    assert "Élec Breizh" in response.content.decode()


def test_abc_as_a_mobile_phone_is_refused_with_a_clear_message(db):

    response = Client().post(reverse("account_request"), {"mobile_phone": "abc"})
    assert "numéro de téléphone valable" in response.content.decode()


def test_the_answer_page_is_reached_by_a_redirect_so_a_refresh_sends_nothing_again(client, db):
    response = client.post(reverse("account_request"), GOOD)
    assert response.status_code == 302 and response["Location"] == reverse("account_request_sent")
    for _ in range(2):  # the person refreshes the answer page
        assert "transmise au distributeur" in client.get(reverse("account_request_sent")).content.decode()
    assert ProAccountRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_request_from_a_known_business_domain_is_flagged_but_not_a_public_provider(
    client, admin_user, company
):
    client.post(reverse("account_request"), {**GOOD, "email": "agence2@soleil.fr", "login": "agence2"})
    client.post(reverse("account_request"), {**GOOD, "email": "artisan@gmail.com", "login": "artisan",
                                             "customer_account_number": "C99"})  # fmt: skip
    admin = login(admin_user)
    same_business = ProAccountRequest.objects.get(login="agence2")
    body = admin.get(reverse("account_request_detail", args=[same_business.pk])).content.decode()
    assert "soleil.fr" in body and "la même entreprise" in body  # the company's contact@soleil.fr
    public = ProAccountRequest.objects.get(login="artisan")
    body = admin.get(reverse("account_request_detail", args=[public.pk])).content.decode()
    assert "la même entreprise" not in body
