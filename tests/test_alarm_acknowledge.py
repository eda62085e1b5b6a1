"""Acknowledging an alarm (`alarm_acknowledge` and its page): the note, who may, a poll clearing it
meanwhile."""

from django.urls import reverse
from django.utils import timezone

from alarms.models import Alarm
from alarms.services import alarm_acknowledge

from .conftest import api_for, login, text
from .factories import open_alarm


def test_acknowledging_with_a_note(installer, logger):
    alarm = open_alarm(logger, "F13")
    client = login(installer)
    response = client.post(reverse("alarms:acknowledge", args=[alarm.pk]), {"note": "Ventilation dégagée"})
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == installer and alarm.note == "Ventilation dégagée"
    page = text(client.get(response.url))
    assert "Alarme acquittée." in page and "Ventilation dégagée" in page
    assert 'name="note"' not in page  # done: the form is not offered again
    listed = text(client.get(reverse("alarms:list")))
    assert '<span class="badge ok">acquittée</span>' in listed


def test_another_company_can_neither_see_nor_acknowledge(stranger, logger):
    alarm = open_alarm(logger, "F13")
    client = login(stranger)
    assert client.get(reverse("alarms:detail", args=[alarm.pk])).status_code == 404
    assert client.post(reverse("alarms:acknowledge", args=[alarm.pk])).status_code == 404
    api = api_for(stranger)
    assert api.get(f"/api/v1/alarms/{alarm.pk}/").status_code == 404
    assert api.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {"note": "x"}).status_code == 404
    assert api.get("/api/v1/alarms/").json()["count"] == 0
    assert ">F13<" not in text(client.get(reverse("alarms:list")))
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is None


def test_acknowledging_an_alarm_a_poll_just_cleared_keeps_it_cleared(installer, logger):
    """The page loaded the alarm open; a poll cleared it meanwhile: the acknowledgement changes only
    what it sets."""
    alarm = open_alarm(logger, "F13")
    Alarm.objects.filter(pk=alarm.pk).update(cleared_at=timezone.now())
    alarm_acknowledge(alarm=alarm, by=installer, note="vu sur place")
    stored = Alarm.objects.get(pk=alarm.pk)
    assert (
        stored.cleared_at is not None
        and stored.acknowledged_by == installer
        and stored.note == "vu sur place"
    )
