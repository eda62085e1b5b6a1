"""Escalation and the customer's alerts: a fault nobody acknowledged reaches the company's
escalation contact after N minutes, once; a customer who opted in is told in plain words, never
the internal notes. Real polls of the simulator; time-machine's clock."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alarms import services, tasks
from alarms.models import Alarm, AlarmPolicy

from .conftest import api_for, login, make_user, text
from .factories import DataloggerFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def poll(clocked_polls, granted_plant):
    return clocked_polls(granted_plant)


@pytest.fixture
def boss(company):
    boss = make_user("chef", "installer", company)
    AlarmPolicy.objects.create(company=company, escalate_after_minutes=30, escalate_to=boss)
    return boss


def to(mailoutbox, address):
    return [m for m in mailoutbox if address in m.to]


def test_an_unacknowledged_fault_reaches_the_second_person_after_n_minutes_once(poll, boss, mailoutbox):
    poll("F13")
    first = len(mailoutbox)
    poll("F13", after=timedelta(minutes=20))
    assert (
        not to(mailoutbox, boss.email)[first:] or len(to(mailoutbox, boss.email)) == 1
    )  # the first e-mail only
    poll("F13", after=timedelta(minutes=11))
    escalated = [m for m in to(mailoutbox, boss.email) if "Non acquitté" in m.subject]
    assert len(escalated) == 1 and "30 minutes" in escalated[0].body
    poll("F13", after=timedelta(minutes=30))
    assert len([m for m in to(mailoutbox, boss.email) if "Non acquitté" in m.subject]) == 1


def test_an_acknowledged_fault_is_not_escalated(poll, boss, installer, mailoutbox):
    poll("F13")
    Alarm.objects.update(acknowledged_by=installer, acknowledged_at=timezone.now())
    poll("F13", after=timedelta(minutes=45))
    assert not [m for m in mailoutbox if "Non acquitté" in m.subject]


def test_a_customer_who_opted_in_gets_plain_words_and_never_the_internal_note(poll, customer, mailoutbox):
    customer.alert_me = True
    customer.save()
    poll("F13")
    (mail,) = to(mailoutbox, customer.email)
    assert "a besoin d’attention" in mail.subject and "F13" not in mail.subject
    assert "Soleil Bleu" in mail.body and "n’ouvrez ni l’onduleur ni la batterie" in mail.body
    assert "06" in mail.body  # the installer's phone


def test_a_customer_who_did_not_opt_in_hears_nothing(poll, customer, mailoutbox):
    poll("F13")
    assert to(mailoutbox, customer.email) == []


def test_a_customer_is_not_told_of_a_warning_meant_for_installers(poll, customer, mailoutbox):
    customer.alert_me = True
    customer.save()
    poll("W12")
    poll("W12", after=timedelta(minutes=15))
    assert to(mailoutbox, customer.email) == []


def test_the_daily_digest_lists_what_opened_what_is_still_open_and_what_cleared(
    installer, granted_plant, mailoutbox
):
    installer.email_digest = True
    installer.save()
    logger = DataloggerFactory(plant=granted_plant)
    now = timezone.now()
    Alarm.objects.create(
        plant=granted_plant, datalogger=logger, code_id="F13", started_at=now - timedelta(hours=2)
    )
    Alarm.objects.create(
        plant=granted_plant, datalogger=logger, code_id="W12", started_at=now - timedelta(days=3)
    )
    Alarm.objects.create(
        plant=granted_plant,
        datalogger=logger,
        code_id="F07",
        started_at=now - timedelta(days=2),
        cleared_at=now - timedelta(hours=5),
    )
    tasks.send_digests.delay()
    (mail,) = [m for m in mailoutbox if installer.email in m.to]
    opened, rest = mail.body.split("Encore ouvertes", 1)
    still, cleared = rest.split("Disparues", 1)
    assert "F13" in opened and "W12" in still and "F07" in cleared


def test_no_digest_without_asking_or_without_anything_to_say(installer, mailoutbox):
    tasks.send_digests.delay()
    installer.email_digest = True
    installer.save()
    tasks.send_digests.delay()
    assert mailoutbox == []


def test_each_role_chooses_its_own_e_mails_in_its_preferences(installer, customer):
    page = text(login(installer).get(reverse("preferences")))
    assert (
        "récapitulatif quotidien" in page
        and "constats du portail" in page
        and "a besoin d’attention" not in page
    )
    page = text(login(customer).get(reverse("preferences")))
    assert "a besoin d’attention" in page and "récapitulatif" not in page


def test_the_api_sets_each_roles_own_e_mail_choices(installer, customer):
    assert (
        api_for(installer).patch("/api/v1/me/preferences/", {"email_digest": True}, format="json").status_code
        == 200
    )
    refused = api_for(installer).patch("/api/v1/me/preferences/", {"alert_me": True}, format="json")
    assert refused.status_code == 400 and "alert_me" in refused.json()
    assert (
        api_for(customer).patch("/api/v1/me/preferences/", {"alert_me": True}, format="json").status_code
        == 200
    )
    assert (
        api_for(customer).patch("/api/v1/me/preferences/", {"email_digest": True}, format="json").status_code
        == 400
    )
    installer.refresh_from_db()
    customer.refresh_from_db()
    assert (
        installer.email_digest and not installer.alert_me and customer.alert_me and not customer.email_digest
    )


def test_escalation_with_nobody_named_reaches_every_member(poll, company, installer, colleague, mailoutbox):
    AlarmPolicy.objects.create(company=company, escalate_after_minutes=15)
    poll("F13")
    poll("F13", after=timedelta(minutes=16))
    escalated = {m.to[0] for m in mailoutbox if "Non acquitté" in m.subject}
    assert escalated == {installer.email, colleague.email}


def test_a_customer_who_opted_in_is_told_of_a_power_cut_on_backup(poll, customer, mailoutbox):
    customer.alert_me = True
    customer.save()
    off_grid = {"system_status": 3}  # "Off grid": the grid is down, the battery runs the house
    poll(**off_grid)
    poll(after=timedelta(minutes=11), **off_grid)
    (mail,) = to(mailoutbox, customer.email)
    assert "Coupure du réseau" in mail.body


def test_an_escalation_the_mail_server_refused_is_sent_on_the_next_run(poll, boss, mailoutbox, monkeypatch):
    poll("F13")
    real = services.send_templated

    def down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(services, "send_templated", down)
    poll("F13", after=timedelta(minutes=31))
    assert not [m for m in mailoutbox if "Non acquitté" in m.subject]
    monkeypatch.setattr(services, "send_templated", real)
    poll("F13", after=timedelta(minutes=1))
    assert len([m for m in mailoutbox if "Non acquitté" in m.subject]) == 1
