"""Who is e-mailed: each installer's plants (a tag, a list) and hours; a rule limited to a tag; a
plant nobody chose still reaches everyone."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from alarms import services, tasks
from alarms.models import Alarm, Subscription, ThresholdRule
from alarms.rules import _applies

from .conftest import api_for, login, make_plant, text
from .factories import DataloggerFactory

pytestmark = pytest.mark.integration

TUESDAY_10 = datetime(2026, 6, 16, 8, 0, tzinfo=UTC)  # 10:00 in Paris
TUESDAY_23 = datetime(2026, 6, 16, 21, 0, tzinfo=UTC)  # 23:00 in Paris


def fault_on(plant):
    return Alarm.objects.create(
        plant=plant, datalogger=DataloggerFactory(plant=plant), code_id="F13", started_at=TUESDAY_10
    )


def emailed(alarm, mailoutbox):
    services.alarm_notify(alarm.pk)
    return {m.to[0] for m in mailoutbox}


@time_machine.travel(TUESDAY_10, tick=False)
def test_a_tag_or_a_list_limits_a_persons_e_mails(company, installer, colleague, mailoutbox):
    vip = make_plant(company, name="VIP", tags=["VIP"])
    other = make_plant(company, name="Autre")
    Subscription.objects.create(user=colleague, tag="VIP")
    assert emailed(fault_on(vip), mailoutbox) == {installer.email, colleague.email}
    mailoutbox.clear()
    assert emailed(fault_on(other), mailoutbox) == {installer.email}
    mailoutbox.clear()
    listed = Subscription.objects.create(user=installer)
    listed.plants.set([vip])
    assert emailed(fault_on(make_plant(company, name="Personne")), mailoutbox) == {
        installer.email,
        colleague.email,
    }


@time_machine.travel(TUESDAY_23, tick=False)
def test_working_hours_only_keeps_the_night_out_and_the_digest_has_it(
    company, installer, colleague, mailoutbox
):
    Subscription.objects.create(user=colleague, working_hours_only=True)
    alarm = fault_on(make_plant(company, name="La nuit"))
    assert emailed(alarm, mailoutbox) == {installer.email}
    mailoutbox.clear()
    tasks.send_digests.delay()
    assert colleague.email in {m.to[0] for m in mailoutbox}  # the digest, without having asked for it


def test_a_rule_limited_to_a_tag_applies_to_those_plants_only(company):
    rule = ThresholdRule(
        company=company, name="x", value="battery_soc", comparison="below", threshold=1, tag="SAV"
    )
    rule.plant_ids = set()
    assert _applies(rule, make_plant(company, name="a", tags=["SAV"]))
    assert not _applies(rule, make_plant(company, name="b", tags=["VIP"]))


def test_the_plant_list_filters_by_tag_and_the_form_takes_tags(installer, company):
    client = login(installer)
    make_plant(company, name="Sous contrat", tags=["contrat maintenance"])
    make_plant(company, name="Sans contrat")
    body = text(client.get(reverse("plants:list") + "?tag=contrat+maintenance"))
    assert "Sous contrat" in body and "Sans contrat" not in body


def test_an_installer_chooses_their_plants_and_hours_on_their_page(installer, company, other_company):
    theirs = make_plant(other_company, name="Chez eux")
    client = login(installer)
    assert "Mes courriels d’alarme" in text(client.get(reverse("alarms:my_emails")))
    client.post(reverse("alarms:my_emails"), {"tag": "", "plants": [theirs.pk], "working_hours_only": "on"})
    assert not Subscription.objects.exists()  # another company's plant is not a choice
    client.post(reverse("alarms:my_emails"), {"tag": "VIP", "working_hours_only": "on"})
    assert Subscription.objects.get(user=installer).working_hours_only


def test_the_api_sets_an_installers_plants_and_hours(installer, company, other_company, customer):
    mine, theirs = make_plant(company, name="À moi"), make_plant(other_company, name="À eux")
    api = api_for(installer)
    assert (
        api.put("/api/v1/me/alarm-subscription/", {"plants": [theirs.pk]}, format="json").status_code == 400
    )
    response = api.put(
        "/api/v1/me/alarm-subscription/",
        {"tag": "", "plants": [mine.pk], "working_hours_only": True},
        format="json",
    )
    assert response.status_code == 200 and response.json()["plants"] == [mine.pk]
    assert list(Subscription.objects.get(user=installer).plants.all()) == [mine]
    assert api_for(customer).get("/api/v1/me/alarm-subscription/").status_code == 403
