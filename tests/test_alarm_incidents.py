"""Incidents worked to resolution: status, assignee, notes kept apart for the customer, resolved by
themselves on recovery unless someone works on them, and the company's response times."""

import pytest
from django.urls import reverse
from django.utils import timezone

from alarms.models import Alarm, AlarmNote

from .conftest import api_for, login, text
from .factories import DataloggerFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def alarm(granted_plant):
    logger = DataloggerFactory(plant=granted_plant)
    return Alarm.objects.create(
        plant=granted_plant, datalogger=logger, code_id="F13", started_at=timezone.now()
    )


def test_an_incident_nobody_took_up_resolves_with_its_code(alarm):
    Alarm.objects.filter(pk=alarm.pk).clear(timezone.now())
    alarm.refresh_from_db()
    assert alarm.status == "resolved" and alarm.resolved_at is not None


def test_an_incident_someone_works_on_stays_theirs_when_the_code_clears(alarm, installer, colleague):
    login(installer).post(
        reverse("alarms:incident", args=[alarm.pk]), {"status": "in_progress", "assignee": colleague.pk}
    )
    Alarm.objects.filter(pk=alarm.pk).clear(timezone.now())
    alarm.refresh_from_db()
    assert (
        alarm.status == "in_progress" and alarm.assignee == colleague and alarm.acknowledged_by == installer
    )


def test_ignoring_needs_a_reason_and_assigning_needs_a_member(alarm, installer, stranger):
    client = login(installer)
    response = client.post(reverse("alarms:incident", args=[alarm.pk]), {"status": "ignored"}, follow=True)
    assert "Dites pourquoi" in text(response)
    client.post(
        reverse("alarms:incident", args=[alarm.pk]), {"status": "in_progress", "assignee": stranger.pk}
    )
    alarm.refresh_from_db()
    assert alarm.status == "new" and alarm.assignee is None
    client.post(
        reverse("alarms:incident", args=[alarm.pk]), {"status": "ignored", "resolution": "Test du client"}
    )
    alarm.refresh_from_db()
    assert alarm.status == "ignored" and alarm.resolution == "Test du client"


def test_the_customer_reads_the_note_for_them_never_the_internal_one(alarm, installer, customer):
    client = login(installer)
    client.post(reverse("alarms:note", args=[alarm.pk]), {"text": "Onduleur à remplacer, marge 40 %"})
    client.post(
        reverse("alarms:note", args=[alarm.pk]),
        {"text": "Passage prévu jeudi matin", "for_customer": "on", "visit_on": "2026-12-10"},
    )
    assert AlarmNote.objects.count() == 2
    page = text(login(customer).get(reverse("plants:detail", args=[alarm.plant_id])))
    assert "Passage prévu jeudi matin" in page and "marge 40" not in page
    api = api_for(customer).get("/api/v1/alarms/").json()["results"][0]
    assert [n["text"] for n in api["notes"]] == ["Passage prévu jeudi matin"]
    assert "note" not in api and "assignee" not in api
    # The installer's page shows both.
    detail = text(client.get(reverse("alarms:detail", args=[alarm.pk])))
    assert "marge 40" in detail and "Passage prévu jeudi matin" in detail


def test_follow_up_notes_can_be_added_after_acknowledging(alarm, installer):
    client = login(installer)
    client.post(reverse("alarms:acknowledge", args=[alarm.pk]), {"note": "vu"})
    client.post(reverse("alarms:note", args=[alarm.pk]), {"text": "Pièce commandée"})
    client.post(reverse("alarms:note", args=[alarm.pk]), {"text": "Pièce reçue"})
    assert list(AlarmNote.objects.values_list("text", flat=True)) == ["Pièce commandée", "Pièce reçue"]


def test_customers_and_other_companies_change_nothing(alarm, customer, stranger):
    for user in (customer, stranger):
        client = login(user)
        assert client.post(reverse("alarms:note", args=[alarm.pk]), {"text": "x"}).status_code in (403, 404)
        assert client.post(
            reverse("alarms:incident", args=[alarm.pk]), {"status": "ignored", "resolution": "x"}
        ).status_code in (403, 404)
        assert api_for(user).post(f"/api/v1/alarms/{alarm.pk}/notes/", {"text": "x"}).status_code in (
            403,
            404,
        )
    assert not AlarmNote.objects.exists() and Alarm.objects.get().status == "new"


def test_the_api_updates_the_incident_and_adds_notes(alarm, installer, colleague):
    api = api_for(installer)
    response = api.post(
        f"/api/v1/alarms/{alarm.pk}/incident/",
        {"status": "in_progress", "assignee": colleague.pk},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "in_progress"
    response = api.post(f"/api/v1/alarms/{alarm.pk}/notes/", {"text": "\x00"}, format="json")
    assert response.status_code == 400
    assert (
        api.post(
            f"/api/v1/alarms/{alarm.pk}/notes/", {"text": "ok", "for_customer": True}, format="json"
        ).status_code
        == 201
    )


def test_the_alarm_page_gives_the_companys_response_times(alarm, installer):
    Alarm.objects.filter(pk=alarm.pk).update(
        started_at=timezone.now() - timezone.timedelta(hours=3),
        acknowledged_at=timezone.now() - timezone.timedelta(hours=2, minutes=40),
    )
    body = text(login(installer).get(reverse("alarms:list")))
    assert "délai d’acquittement" in body.lower() or "acquitter" in body.lower()
    assert "20 min" in body
