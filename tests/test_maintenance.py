"""Maintenance windows: while someone works on a plant its alarms are recorded, marked, and e-mail
nobody; after the window they notify again. Real polls of the simulator."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alarms.models import Alarm, MaintenanceWindow

from .clocked_polls import MORNING
from .conftest import api_for, login, text

pytestmark = pytest.mark.integration


@pytest.fixture
def poll(clocked_polls, plant):
    return clocked_polls(plant)


def test_during_a_maintenance_window_nothing_is_emailed_and_the_alarm_is_recorded(
    poll, plant, installer, mailoutbox
):
    login(installer).post(
        reverse("alarms:maintenance", args=[plant.pk]), {"hours": "4", "reason": "Remplacement batterie"}
    )
    poll("F13")
    poll("F13", "W07", after=timedelta(minutes=15))
    assert mailoutbox == []
    alarms = Alarm.objects.order_by("code_id")
    assert [a.code_id for a in alarms] == ["F13", "W07"] and all(a.in_maintenance for a in alarms)
    page = text(login(installer).get(reverse("plants:detail", args=[plant.pk])))
    assert "Maintenance jusqu" in page and "Remplacement batterie" in page
    assert "pendant la maintenance" in text(login(installer).get(reverse("alarms:list")))


def test_after_the_window_ends_alarms_notify_again(poll, plant, installer, mailoutbox):
    login(installer).post(reverse("alarms:maintenance", args=[plant.pk]), {"hours": "1"})
    poll("F13")
    poll(after=timedelta(minutes=5))
    poll("F07", after=timedelta(minutes=60))  # the hour is over
    assert [m.subject.split("]")[0] for m in mailoutbox] == ["[F07"]


def test_a_window_on_one_code_silences_that_code_only(poll, plant, installer, mailoutbox):
    login(installer).post(reverse("alarms:maintenance", args=[plant.pk]), {"hours": "4", "code": "W07"})
    poll("F13", "W07")
    poll("F13", "W07", after=timedelta(minutes=15))
    assert [m.subject.split("]")[0] for m in mailoutbox] == ["[F13"]


def test_ending_the_window_now(poll, plant, installer):
    client = login(installer)
    client.post(reverse("alarms:maintenance", args=[plant.pk]), {"hours": "24"})
    window = MaintenanceWindow.objects.get()
    client.post(reverse("alarms:maintenance_end", args=[plant.pk, window.pk]))
    window.refresh_from_db()
    assert window.ends_at <= MORNING + timedelta(seconds=1)


def test_only_the_plants_installers_start_or_end_a_window(granted_plant, customer, stranger, installer):
    for user in (customer, stranger):
        response = login(user).post(reverse("alarms:maintenance", args=[granted_plant.pk]), {"hours": "4"})
        assert response.status_code in (403, 404)
    assert not MaintenanceWindow.objects.exists()


@pytest.mark.parametrize("hours", ["0", "99999", "abc", "-4"])
def test_a_bad_duration_is_refused(plant, installer, hours):
    response = login(installer).post(
        reverse("alarms:maintenance", args=[plant.pk]), {"hours": hours}, follow=True
    )
    assert response.status_code == 200 and not MaintenanceWindow.objects.exists()


def test_the_api_starts_and_ends_a_window_on_the_companys_plants_only(plant, installer, stranger, customer):
    api = api_for(installer)
    created = api.post(
        "/api/v1/maintenance-windows/", {"plant": plant.pk, "hours": 2, "reason": "visite"}, format="json"
    )
    assert created.status_code == 201, created.json()
    window = MaintenanceWindow.objects.get()
    assert window.ends_at - window.starts_at == timedelta(hours=2)
    assert (
        api_for(stranger)
        .post("/api/v1/maintenance-windows/", {"plant": plant.pk, "hours": 2}, format="json")
        .status_code
        == 400
    )
    assert api_for(stranger).delete(f"/api/v1/maintenance-windows/{window.pk}/").status_code == 404
    assert api_for(customer).get("/api/v1/maintenance-windows/").status_code == 403
    assert api.delete(f"/api/v1/maintenance-windows/{window.pk}/").status_code == 204
    window.refresh_from_db()
    assert window.ends_at <= timezone.now()


def test_the_customer_does_not_see_the_windows_internal_reason(granted_plant, installer, customer):
    login(installer).post(
        reverse("alarms:maintenance", args=[granted_plant.pk]),
        {"hours": "4", "reason": "Client mauvais payeur"},
    )
    page = text(login(customer).get(reverse("plants:detail", args=[granted_plant.pk])))
    assert "mauvais payeur" not in page and "Maintenance jusqu" not in page
