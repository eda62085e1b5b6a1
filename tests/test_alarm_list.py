"""The alarm list (the fleet's and a plant's tab): order, filters, the user's calendar days, who sees
what."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse

from alarms.models import Alarm
from devices.models import Datalogger

from .conftest import api_for, login, make_plant, text
from .factories import open_alarm


def test_the_list_puts_active_first_then_severity_then_age(installer, logger):
    warning = open_alarm(logger, "W04", minutes_ago=60)
    fault = open_alarm(logger, "F13", minutes_ago=5)
    old_fault = open_alarm(logger, "F07", minutes_ago=30)
    cleared = open_alarm(logger, "F12", minutes_ago=90, cleared=True)
    ids = [a["id"] for a in api_for(installer).get("/api/v1/alarms/").json()["results"]]
    assert ids == [old_fault.pk, fault.pk, warning.pk, cleared.pk]
    body = text(login(installer).get(reverse("alarms:list")))
    assert body.index(">F07<") < body.index(">F13<") < body.index(">W04<") < body.index(">F12<")


def test_filters_by_code_severity_and_state(installer, logger):
    open_alarm(logger, "W04")
    open_alarm(logger, "F13")
    open_alarm(logger, "F12", cleared=True)
    api = api_for(installer)
    assert [a["code"] for a in api.get("/api/v1/alarms/?kind=warning").json()["results"]] == ["W04"]
    assert [a["code"] for a in api.get("/api/v1/alarms/?state=cleared").json()["results"]] == ["F12"]
    assert [a["code"] for a in api.get("/api/v1/alarms/?code=f13").json()["results"]] == ["F13"]
    body = text(login(installer).get(reverse("alarms:list"), {"kind": "fault", "state": "active"}))
    assert ">F13<" in body and ">W04<" not in body and ">F12<" not in body


def test_a_customer_sees_active_alarms_of_granted_plants_and_cannot_acknowledge(
    customer, granted_plant, logger
):
    active = open_alarm(logger, "F13")
    open_alarm(logger, "F12", cleared=True)
    api = api_for(customer)
    assert [a["code"] for a in api.get("/api/v1/alarms/").json()["results"]] == ["F13"]
    assert api.post(f"/api/v1/alarms/{active.pk}/acknowledge/", {"note": "x"}).status_code == 403
    assert login(customer).post(reverse("alarms:acknowledge", args=[active.pk])).status_code == 403
    assert login(customer).get(reverse("alarms:export")).status_code == 403
    assert "F13" in text(login(customer).get(reverse("plants:detail", args=[granted_plant.pk])))
    active.refresh_from_db()
    assert active.acknowledged_at is None


def test_a_plants_alarm_tab_shows_its_history_only(installer, stranger, logger, company):
    other = Datalogger.objects.create(plant=make_plant(company, name="Voisin"), serial_number="2355553599")
    open_alarm(logger, "F13", cleared=True)
    open_alarm(other, "COM")
    response = login(installer).get(reverse("alarms:list"), {"plant": logger.plant.pk})
    body = text(response)
    assert response.context["plant"] == logger.plant and ">F13<" in body and ">COM<" not in body
    assert login(stranger).get(reverse("alarms:list"), {"plant": logger.plant.pk}).status_code == 404


def test_date_filters_are_the_users_calendar_days(installer, logger):
    """Days are Paris days: an alarm started at 00:30 on 2 June (22:30 UTC on 1 June) is not "until
    1 June"; one cleared at 23:30 on 1 June (21:30 UTC) is "since 1 June"."""
    paris = ZoneInfo("Europe/Paris")
    early = Alarm.objects.create(plant=logger.plant, datalogger=logger, code_id="F13",
                                 started_at=datetime(2026, 6, 2, 0, 30, tzinfo=paris))  # fmt: skip
    late = Alarm.objects.create(plant=logger.plant, datalogger=logger, code_id="F07",
                                started_at=datetime(2026, 6, 1, 20, 0, tzinfo=paris),
                                cleared_at=datetime(2026, 6, 1, 23, 30, tzinfo=paris))  # fmt: skip
    client = login(installer)

    def listed(**params):
        return {a.pk for a in client.get(reverse("alarms:list"), params).context["page"]}

    assert listed(until="2026-06-01") == {late.pk}
    assert early.pk in listed(until="2026-06-02")
    assert listed(since="2026-06-02", state="cleared") == set()
    assert listed(since="2026-06-01", state="cleared") == {late.pk}
