"""The tariffs page: the plant's installers add a tariff (a price change is a new one from its day),
its customers read them, nobody else sees them; a wrong tariff is refused with its reason."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from economics.models import Tariff, off_peak_minutes

from .conftest import login, make_user, text

BASE = {
    "valid_from": "2026-12-01",
    "kind": "base",
    "base_price": "0,2516",
    "feed_in": "none",
    "billing_day": "5",
}


def url(plant):
    return reverse("economics:tariffs", args=[plant.pk])


def test_an_installer_adds_a_tariff_and_a_price_change(plant, installer):
    client = login(installer)
    response = client.post(url(plant), BASE)
    assert response.status_code == 302
    first = Tariff.objects.get(plant=plant)
    assert (first.base_price, first.billing_day, first.created_by) == (Decimal("0.2516"), 5, installer)
    # The form starts from the contract in force: a price change is its date and its price.
    form = client.get(url(plant)).context["form"]
    assert form.initial["base_price"] == Decimal("0.2516") and form.initial["billing_day"] == 5
    client.post(url(plant), {**BASE, "valid_from": "2027-02-01", "base_price": "0,2700"})
    assert plant.tariffs.in_force(date(2027, 1, 31)) == first
    assert plant.tariffs.in_force(date(2027, 2, 1)).base_price == Decimal("0.27")
    assert plant.tariffs.in_force(date(2026, 11, 30)) is None


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"base_price": ""}, "base_price", "Obligatoire pour ce contrat."),
        ({"kind": "peak_off_peak"}, "peak_price", "Obligatoire pour ce contrat."),
        (
            {"kind": "peak_off_peak", "peak_price": "0,27", "off_peak_price": "0,2",
             "off_peak_hours": "22h-6h"},
            "off_peak_hours",
            "« 22h-6h » n'est pas une plage horaire comme 22:00-06:00 (à l'heure ou à la demi-heure).",
        ),
        ({"feed_in": "surplus"}, "feed_in_price", "Obligatoire quand l'énergie est vendue."),
        ({"base_price": "25"}, "base_price", "Assurez-vous que cette valeur est inférieure ou égale à 10."),
        ({"base_price": "-0,1"}, "base_price", "Assurez-vous que cette valeur est supérieure ou égale à 0."),
        ({"billing_day": "31"}, "billing_day", "Assurez-vous que cette valeur est inférieure ou égale à 28."),
        ({"valid_from": "1899-01-01"}, "valid_from", "Indiquez une date entre 2000 et 2099."),
        ({"base_price": "9" * 40}, "base_price", None),
        ({"kind": "gratuit"}, "kind", None),
        ({"feed_in": "troc", "feed_in_price": "0,1"}, "feed_in", None),
    ],
    ids=["no price", "no peak price", "hours", "no sale price", "100 times a price", "negative", "day 31",
         "date", "huge number", "unknown contract", "unknown sale"],
)  # fmt: skip
def test_a_wrong_tariff_is_refused_with_its_reason(plant, installer, changes, field, message):
    response = login(installer).post(url(plant), {**BASE, **changes})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and (message is None or message in errors[field])
    assert not Tariff.objects.exists()


def test_two_tariffs_from_the_same_day_are_refused(plant, installer):
    client = login(installer)
    client.post(url(plant), BASE)
    response = client.post(url(plant), {**BASE, "base_price": "0,3"})
    assert response.status_code == 400
    assert "Cette centrale a déjà un tarif à partir de ce jour : supprimez-le d'abord." in text(response)


@pytest.mark.parametrize(
    "hours, minutes",
    [
        ("22:00-06:00", [(0, 360), (1320, 1440)]),
        ("01:30-07:30, 12:30-14:30", [(90, 450), (750, 870)]),
        ("22:30-24:00", [(1350, 1440)]),
    ],
)
def test_off_peak_hours_as_on_the_bill(hours, minutes):
    assert off_peak_minutes(hours) == minutes


@pytest.mark.parametrize(
    "hours", ["22:15-06:00", "06:00-06:00", "22:00-06:00, 05:00-07:00", "25:00-01:00", "x"]
)
def test_off_peak_hours_that_no_meter_has_are_refused(hours):
    with pytest.raises(ValidationError):
        off_peak_minutes(hours)


def test_the_customer_reads_the_tariffs_and_changes_nothing(granted_plant, customer):
    Tariff.objects.create(plant=granted_plant, valid_from=date(2026, 1, 1), base_price=Decimal("0.25"))
    client = login(customer)
    page = client.get(url(granted_plant))
    assert page.status_code == 200 and page.context["form"] is None and "0,25" in text(page)
    assert client.post(url(granted_plant), BASE).status_code == 403
    tariff = granted_plant.tariffs.get()
    delete = reverse("economics:tariff_delete", args=[granted_plant.pk, tariff.pk])
    assert client.post(delete).status_code == 403
    assert Tariff.objects.count() == 1


def test_another_companys_installer_sees_no_tariff(plant, stranger):
    Tariff.objects.create(plant=plant, valid_from=date(2026, 1, 1), base_price=Decimal("0.25"))
    client = login(stranger)
    assert client.get(url(plant)).status_code == 404
    assert client.post(url(plant), BASE).status_code == 404
    assert client.get(reverse("economics:savings", args=[plant.pk])).status_code == 404


def test_a_viewer_of_the_company_reads_but_does_not_add(plant, company):
    viewer = make_user("lucie", User.Role.INSTALLER, company, company_role="viewer")
    client = login(viewer)
    assert client.get(url(plant)).context["form"] is None
    assert client.post(url(plant), BASE).status_code == 403


def test_the_installer_deletes_a_wrong_tariff(plant, installer):
    tariff = Tariff.objects.create(plant=plant, valid_from=date(2026, 1, 1), base_price=Decimal("0.25"))
    response = login(installer).post(reverse("economics:tariff_delete", args=[plant.pk, tariff.pk]))
    assert response.status_code == 302 and not Tariff.objects.exists()
