"""Authorising a customer on a plant (`plant_grant`): a new account e-mailed, an existing one invited
and granted once accepted, a professional address refused without telling, another company's
customer not revealed."""

from django.urls import reverse
from django.utils.timezone import now

from accounts.models import User
from plants.models import PlantGrant

from .conftest import api_for, login, make_plant, make_user, text


def test_authorising_a_new_customer_creates_the_account_and_emails_them(
    installer, plant, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(installer).post(
            reverse("plants:grants", args=[plant.pk]),
            {"email": "Claire@Example.fr", "first_name": "Claire", "from_stepper": "1"},
        )
    assert response.url == reverse("plants:commission", args=[plant.pk, "finish"])
    claire = User.objects.get(email="Claire@Example.fr")
    assert claire.is_customer and PlantGrant.objects.filter(plant=plant, customer=claire).exists()
    assert mailoutbox[0].to == ["Claire@Example.fr"] and "/password-reset/" in mailoutbox[0].body


def test_an_existing_customer_is_granted_not_duplicated(installer, plant, customer, company):
    client = login(installer)
    body = client.get(
        reverse("plants:grant_check", args=[plant.pk]), {"email": customer.email}
    ).content.decode()
    assert "sera invité" in body  # the installer learns nothing about the account
    client.post(reverse("plants:grants", args=[plant.pk]), {"email": customer.email.upper()})
    second = make_plant(company, name="Résidence secondaire")
    client.post(reverse("plants:grants", args=[second.pk]), {"email": customer.email})
    assert User.objects.filter(email__iexact=customer.email).count() == 1
    assert set(customer.plant_grants.values_list("plant__name", flat=True)) == {
        "Maison Martin",
        "Résidence secondaire",
    }


def test_a_pro_email_cannot_become_a_customer_and_the_installer_cannot_tell(
    installer, plant, stranger, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(installer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("plants:grants", args=[plant.pk]), {"email": stranger.email})
    assert response.status_code == 302  # as for any invitation
    page = text(client.get(reverse("plants:grants", args=[plant.pk])))
    assert stranger.email in page and "Invité, pas encore accepté" in page and "professionnel" not in page
    assert "compte professionnel" in mailoutbox[-1].body and mailoutbox[-1].to == [stranger.email]
    grant = PlantGrant.objects.get()
    response = login(stranger).post(reverse("plants:invitation", args=[grant.token]))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.accepted_at is None  # never a customer's access on a professional account


def test_an_existing_customer_is_invited_and_sees_the_plant_only_once_accepted(
    installer, plant, customer, stranger, mailoutbox, django_capture_on_commit_callbacks
):
    check = login(installer).get(reverse("plants:grant_check", args=[plant.pk]), {"email": customer.email})
    assert "sera invité" in text(check) and "déjà" not in text(check)  # nothing about other accounts
    with django_capture_on_commit_callbacks(execute=True):
        login(installer).post(reverse("plants:grants", args=[plant.pk]), {"email": customer.email})
    grant = PlantGrant.objects.get(plant=plant, customer=customer)
    assert grant.accepted_at is None
    assert login(customer).get(reverse("plants:detail", args=[plant.pk])).status_code == 404
    url = reverse("plants:invitation", args=[grant.token])
    assert url in mailoutbox[0].body
    assert login(stranger).get(url).status_code == 404
    login(customer).post(url)
    assert login(customer).get(reverse("plants:detail", args=[plant.pk])).status_code == 200


def test_granting_another_companys_customer_reveals_neither_id_nor_name_until_accepted(
    installer, plant, stranger, other_company
):
    """Their customer "Gwen Le Goff" of Armor Solaire: to Soleil Bleu's installer, only the e-mail
    they typed, until Gwen accepts."""
    gwen = make_user("gwen", User.Role.CUSTOMER, first_name="Gwen", last_name="Le Goff")
    PlantGrant.objects.create(
        plant=make_plant(other_company, name="Ferme"), customer=gwen, granted_by=stranger, accepted_at=now()
    )
    client = login(installer)
    checks = {
        text(client.get(reverse("plants:grant_check", args=[plant.pk]), {"email": email})).replace(email, "…")
        for email in (gwen.email, stranger.email, "personne@example.fr")
    }
    assert len(checks) == 1  # the same words for a customer, a pro account and nobody
    client.post(reverse("plants:grants", args=[plant.pk]), {"email": gwen.email})
    page = text(client.get(reverse("plants:grants", args=[plant.pk])))
    assert gwen.email in page and "Gwen" not in page and "Le Goff" not in page
    (listed,) = [
        g for g in api_for(installer).get("/api/v1/grants/").json()["results"] if g["plant"] == plant.pk
    ]
    assert listed["customer"] is None and listed["accepted_at"] is None
    grant = PlantGrant.objects.get(plant=plant, customer=gwen)
    login(gwen).post(reverse("plants:invitation", args=[grant.token]))
    assert "Gwen" in text(client.get(reverse("plants:grants", args=[plant.pk])))
