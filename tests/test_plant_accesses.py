"""Lending a plant to a subcontractor (an installer of another company) for a period: they see it
and, as technician, work on it; they lose it at its end with nothing running; only the plant's
company's administrators lend."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import CompanyRole, User
from plants.models import Plant, PlantAccess, fleet_counts
from plants.services import plant_access_end, plant_lend

from .conftest import api_for, login, make_user, text
from .factories import open_alarm


def lend(plant, user, by, *, days=1, role=CompanyRole.TECHNICIAN):
    return plant_lend(plant=plant, user=user, role=role, ends_at=timezone.now() + timedelta(days=days), by=by)


def test_a_subcontractor_works_on_the_lent_plant_until_the_end_then_loses_it(
    installer, stranger, plant, logger
):
    alarm = open_alarm(logger, "F13")
    access = lend(plant, stranger, installer)
    client = login(stranger)
    assert plant.name in text(client.get(reverse("plants:list")))
    assert client.post(reverse("alarms:acknowledge", args=[alarm.pk])).status_code == 302
    assert api_for(stranger).get(f"/api/v1/plants/{plant.pk}/").status_code == 200
    # Its end comes: no task runs, the next request is refused.
    PlantAccess.objects.filter(pk=access.pk).update(
        starts_at=F("starts_at") - timedelta(days=2), ends_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(reverse("plants:detail", args=[plant.pk])).status_code == 404
    assert api_for(stranger).get(f"/api/v1/plants/{plant.pk}/").status_code == 404
    assert plant.name not in text(client.get(reverse("plants:list")))


def test_a_plant_lent_as_viewer_is_read_only(installer, stranger, plant, logger):
    alarm = open_alarm(logger, "F13")
    lend(plant, stranger, installer, role=CompanyRole.VIEWER)
    client = login(stranger)
    assert client.get(reverse("plants:detail", args=[plant.pk])).status_code == 200
    assert client.post(reverse("alarms:acknowledge", args=[alarm.pk])).status_code in (403, 404)
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is None


def test_a_subcontractor_never_administers_the_plant(installer, stranger, plant):
    lend(plant, stranger, installer)
    client = login(stranger)
    assert client.get(reverse("plants:transfer", args=[plant.pk])).status_code == 403
    assert client.get(reverse("plants:accesses", args=[plant.pk])).status_code == 403
    assert api_for(stranger).delete(f"/api/v1/plants/{plant.pk}/").status_code in (403, 404)
    assert Plant.objects.filter(pk=plant.pk, archived_at__isnull=True).exists()


def test_the_page_lends_by_e_mail_until_a_day_and_tells_the_subcontractor(
    installer, stranger, plant, django_capture_on_commit_callbacks
):
    until = timezone.localdate() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(installer).post(
            reverse("plants:accesses", args=[plant.pk]),
            {"who": stranger.email.upper(), "role": CompanyRole.TECHNICIAN, "until": until.isoformat()},
        )
    assert response.status_code == 302
    access = PlantAccess.objects.get()
    assert access.user == stranger and timezone.localtime(
        access.ends_at, plant.tzinfo
    ).date() == until + timedelta(days=1)
    assert mail.outbox[0].to == [stranger.email] and plant.name in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("who", "until_days", "message"),
    [
        ("personne@example.fr", 3, "Aucun compte"),
        ("paul", 3, "membre de la société"),  # a colleague: the team page gives them plants
        ("stranger", -1, "aujourd"),
        ("stranger", 400, "366"),
    ],
)
def test_a_lending_that_cannot_be_is_refused_with_its_reason(
    installer, stranger, plant, who, until_days, message
):
    who = stranger.username if who == "stranger" else who
    until = timezone.localdate() + timedelta(days=until_days)
    response = login(installer).post(
        reverse("plants:accesses", args=[plant.pk]),
        {"who": who, "role": "technician", "until": until.isoformat()},
    )
    assert response.status_code == 200 and message in text(response)
    assert not PlantAccess.objects.exists()


def test_a_customer_account_cannot_be_lent_a_plant(installer, customer, plant):
    with pytest.raises(ValidationError):
        lend(plant, customer, installer)


def test_only_the_companys_administrators_lend_and_end(installer, colleague, stranger, plant):
    User.objects.filter(pk=colleague.pk).update(company_role=CompanyRole.TECHNICIAN)
    colleague.refresh_from_db()
    with pytest.raises(PermissionDenied):
        lend(plant, stranger, colleague)
    access = lend(plant, stranger, installer)
    with pytest.raises(PermissionDenied):
        plant_access_end(access=access, by=colleague)
    with pytest.raises(PermissionDenied):
        plant_access_end(access=access, by=stranger)


def test_ending_an_access_now_takes_the_plant_away_at_once(installer, stranger, plant):
    access = lend(plant, stranger, installer)
    response = login(installer).post(reverse("plants:access_end", args=[plant.pk, access.pk]))
    assert response.status_code == 302
    assert login(stranger).get(reverse("plants:detail", args=[plant.pk])).status_code == 404
    assert plant_access_end(access=access, by=installer) is False  # already ended


def test_a_subcontractors_fleet_counts_include_the_lent_plant(installer, stranger, plant, other_company):
    before = sum(fleet_counts(stranger)[0].values())
    lend(plant, stranger, installer)
    assert sum(fleet_counts(stranger)[0].values()) == before + 1


def test_a_technician_given_some_plants_sees_only_those(installer, company, plant):
    other = Plant.objects.create(
        company=company, name="Autre", address="-", postcode="69003", city="Lyon", pv_power_kwp=3
    )
    limited = make_user("lim", User.Role.INSTALLER, company, company_role=CompanyRole.TECHNICIAN)
    client = login(installer)
    response = client.post(
        reverse("plants:member_plants", args=[limited.pk]), {"member": limited.pk, "plants": [other.pk]}
    )
    assert response.status_code == 302
    limited.refresh_from_db()
    assert not limited.all_plants
    assert list(Plant.objects.restrict(limited)) == [other]
    assert login(limited).get(reverse("plants:detail", args=[plant.pk])).status_code == 404
    client.post(
        reverse("plants:member_plants", args=[limited.pk]), {"member": limited.pk, "all_plants": "on"}
    )
    limited.refresh_from_db()
    assert set(Plant.objects.restrict(limited)) == {plant, other}


def test_a_technician_given_some_plants_cannot_change_the_companys_alarm_rules(company):
    limited = make_user(
        "lim", User.Role.INSTALLER, company, company_role=CompanyRole.TECHNICIAN, all_plants=False
    )
    response = login(limited).post(reverse("alarms:rules"), {"policy": "1"})
    assert response.status_code == 403
    assert api_for(limited).put("/api/v1/alarm-policy/", {}, format="json").status_code == 403
