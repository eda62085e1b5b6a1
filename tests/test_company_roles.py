"""Roles inside an installer company: the administrator manages members, hands plants over and
deletes them; a technician commissions, triages and controls; a viewer reads. The first member is
administrator; the company always keeps one; a changed role counts from the next request."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from accounts import services
from accounts.models import CompanyRole, ProAccountRequest, User
from integrations.forms import ApiTokenForm
from plants.models import Plant

from .conftest import api_for, login, make_user, text
from .factories import open_alarm


@pytest.fixture
def viewer(company):
    return make_user("vera", User.Role.INSTALLER, company, company_role=CompanyRole.VIEWER)


@pytest.fixture
def technician(company):
    return make_user("theo", User.Role.INSTALLER, company, company_role=CompanyRole.TECHNICIAN)


def test_the_first_member_of_an_approved_company_is_its_administrator(admin_user):
    pending = ProAccountRequest.objects.create(
        company_name="Élec Breizh", address="-", mobile_phone="0600000003", email="eb@example.fr",
        login="elecbreizh", customer_account_number="42",
    )  # fmt: skip
    company = services.account_request_approve(request_obj=pending, by=admin_user)
    (first,) = company.members.all()
    assert first.company_role == CompanyRole.ADMINISTRATOR and first.is_company_administrator


def test_an_administrator_invites_a_colleague_with_a_role(installer, company):
    response = login(installer).post(
        reverse("team"),
        {"email": "vera@example.fr", "username": "vera", "company_role": CompanyRole.VIEWER},
    )
    assert response.status_code == 302
    assert User.objects.get(username="vera").company_role == CompanyRole.VIEWER


def test_a_viewer_reads_the_plants_and_changes_nothing(viewer, plant, logger):
    alarm = open_alarm(logger, "F13")
    client = login(viewer)
    assert client.get(reverse("plants:detail", args=[plant.pk])).status_code == 200
    assert client.get(reverse("alarms:detail", args=[alarm.pk])).status_code == 200
    assert client.post(reverse("alarms:acknowledge", args=[alarm.pk])).status_code in (403, 404)
    assert client.post(reverse("plants:create"), {"name": "Neuve"}).status_code == 403
    assert client.post(reverse("plants:edit", args=[plant.pk]), {"name": "Renommée"}).status_code == 403
    assert client.post(reverse("team"), {"email": "x@example.fr", "username": "x"}).status_code == 403
    inverter = logger.inverters.get()
    api = api_for(viewer)
    assert api.post(f"/api/v1/inverters/{inverter.pk}/settings/", {"working_mode": 2}).status_code == 404
    assert api.post("/api/v1/plants/", {"name": "Neuve"}).status_code == 403
    alarm.refresh_from_db()
    plant.refresh_from_db()
    assert alarm.acknowledged_at is None and plant.name != "Renommée" and Plant.objects.count() == 1
    assert "Edit the plant" not in text(client.get(reverse("plants:about", args=[plant.pk])))


def test_a_viewer_is_not_offered_a_live_read_of_the_settings(viewer, installer, logger):
    inverter = logger.inverters.get()
    url = reverse("devices:settings", args=[inverter.pk])
    assert reverse("devices:settings_read", args=[inverter.pk]) not in text(login(viewer).get(url))
    assert login(viewer).post(reverse("devices:settings_read", args=[inverter.pk])).status_code in (403, 404)
    assert reverse("devices:settings_read", args=[inverter.pk]) in text(login(installer).get(url))


def test_a_viewers_tokens_can_only_read(viewer):
    assert [value for value, _label in ApiTokenForm(user=viewer).fields["scopes"].choices] == ["read"]


def test_a_technician_commissions_and_triages_but_does_not_administer(technician, plant, logger, customer):
    alarm = open_alarm(logger, "F13")
    client = login(technician)
    assert client.post(reverse("alarms:acknowledge", args=[alarm.pk])).status_code == 302
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is not None
    assert client.get(reverse("plants:transfer", args=[plant.pk])).status_code == 403
    assert (
        client.post(reverse("plants:archive", args=[plant.pk]), {"confirm_name": plant.name}).status_code
        == 403
    )
    assert api_for(technician).delete(f"/api/v1/plants/{plant.pk}/").status_code in (403, 404)
    assert client.get(reverse("webhooks")).status_code == 403
    assert client.post(reverse("team"), {"email": "x@example.fr", "username": "x"}).status_code == 403
    plant.refresh_from_db()
    assert plant.archived_at is None
    page = text(client.get(reverse("plants:about", args=[plant.pk])))
    assert "Supprimer la centrale" not in page


def test_an_administrator_changes_roles_and_the_change_counts_at_the_next_request(
    installer, technician, plant
):
    client = login(technician)
    assert client.get(reverse("plants:edit", args=[plant.pk])).status_code == 200
    login(installer).post(reverse("team"), {"member": technician.pk, "company_role": CompanyRole.VIEWER})
    assert client.get(reverse("plants:edit", args=[plant.pk])).status_code == 403  # the same session


def test_only_an_administrator_changes_roles(technician, installer):
    with pytest.raises(PermissionDenied):
        services.member_set_role(member=installer, company_role=CompanyRole.VIEWER, by=technician)
    response = login(technician).post(reverse("team"), {"member": installer.pk, "company_role": "viewer"})
    assert response.status_code == 403
    installer.refresh_from_db()
    assert installer.company_role == CompanyRole.ADMINISTRATOR


def test_an_administrator_of_another_company_cannot_reach_its_members(stranger, technician):
    with pytest.raises(PermissionDenied):
        services.member_set_role(member=technician, company_role=CompanyRole.ADMINISTRATOR, by=stranger)
    response = login(stranger).post(
        reverse("team"), {"member": technician.pk, "company_role": "administrator"}
    )
    assert response.status_code == 404
    technician.refresh_from_db()
    assert technician.company_role == CompanyRole.TECHNICIAN


def test_the_company_keeps_an_administrator(installer):
    with pytest.raises(ValidationError):
        services.member_set_role(member=installer, company_role=CompanyRole.TECHNICIAN, by=installer)
    response = login(installer).post(
        reverse("team"), {"member": installer.pk, "company_role": CompanyRole.TECHNICIAN}, follow=True
    )
    assert "administrat" in text(response)
    installer.refresh_from_db()
    assert installer.company_role == CompanyRole.ADMINISTRATOR


@pytest.mark.django_db(transaction=True)
def test_two_administrators_demoting_each_other_at_once_leave_one(company):
    first = make_user("ada", User.Role.INSTALLER, company)
    second = make_user("bob", User.Role.INSTALLER, company)
    start, refused = threading.Barrier(2), []

    def demote(member, by):
        start.wait()
        try:
            services.member_set_role(member=member, company_role=CompanyRole.TECHNICIAN, by=by)
        except (ValidationError, PermissionDenied):  # the last one, or demoted meanwhile
            refused.append(member)
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=pair) for pair in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    roles = sorted(User.objects.filter(company=company).values_list("company_role", flat=True))
    assert roles == [CompanyRole.ADMINISTRATOR, CompanyRole.TECHNICIAN] and len(refused) == 1


def test_the_customers_tab_is_offered_to_who_may_authorise_them(installer, technician, viewer, plant):
    """Installers who change the plant authorise its customers; a viewer reads, so no tab."""
    grants = reverse("plants:grants", args=[plant.pk])
    page = reverse("plants:detail", args=[plant.pk])
    assert f'href="{grants}"' in text(login(installer).get(page))
    assert f'href="{grants}"' in text(login(technician).get(page))
    assert f'href="{grants}"' not in text(login(viewer).get(page))
