"""The installer's alarm list, acknowledgement, export and e-mails; who may see and act."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from alarms.models import Alarm
from alarms.services import alarm_acknowledge, alarm_notify, alarms_pending_notification
from alarms.tasks import send_pending_notifications
from devices.models import Datalogger
from devices.polling import poll_loggers
from plants.models import Plant

from .conftest import api_for, attach_logger, login, make_plant, text
from .factories import DataloggerFactory, InverterFactory


@pytest.fixture
def logger(plant):
    return InverterFactory(datalogger__plant=plant).datalogger


def open_alarm(logger, code, minutes_ago=10, cleared=False):
    now = timezone.now()
    return Alarm.objects.create(
        plant=logger.plant,
        datalogger=logger,
        inverter=None if code == "COM" else logger.inverters.get(),
        code_id=code,
        started_at=now - timedelta(minutes=minutes_ago),
        cleared_at=now if cleared else None,
    )


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


def test_csv_export_gives_the_history_in_the_plants_time_zone(installer, logger, company):
    logger.plant.time_zone = "Indian/Reunion"
    logger.plant.save()
    alarm = open_alarm(logger, "F13", cleared=True)
    response = login(installer).get(reverse("alarms:export"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # French: BOM and semicolons
    header, first = (line.split(";") for line in body.splitlines()[:2])
    assert header[:3] == ["Centrale", "Appareil", "Code"]
    assert first[0] == alarm.plant.name and first[2] == "F13" and first[4].endswith("+04:00")


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(installer, logger):
    Plant.objects.filter(pk=logger.plant.pk).update(name='=HYPERLINK("http://evil")')
    alarm = open_alarm(logger, "F13", cleared=True)
    Alarm.objects.filter(pk=alarm.pk).update(note="@SUM(A1)")
    body = b"".join(login(installer).get(reverse("alarms:export")).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")' and rows[1][-1] == "'@SUM(A1)"


def test_english_csv_is_comma_separated_without_bom(installer, logger):
    installer.language = "en"
    installer.save()
    open_alarm(logger, "F13", cleared=True)
    client = login(installer)
    client.cookies["django_language"] = "en"
    body = b"".join(
        client.get(reverse("alarms:export"), HTTP_ACCEPT_LANGUAGE="en").streaming_content
    ).decode()
    assert body.startswith("Plant,Device,Code")


def test_the_fleet_home_counts_plants_by_status_and_active_alarms_by_kind(installer, logger, company):
    make_plant(company, name="Sans enregistreur")
    open_alarm(logger, "F13")
    open_alarm(logger, "F07")
    open_alarm(logger, "W04")
    open_alarm(logger, "W12", cleared=True)
    response = login(installer).get(reverse("plants:list"))
    assert response.context["plant_total"] == 2
    assert response.context["plant_counts"]["incomplete"] == 1
    assert response.context["alarm_counts"] == {"fault": 2, "warning": 1, "communication": 0}
    assert "Défauts actifs" in text(response)


def test_a_fault_emails_the_companys_installers_in_french(installer, colleague, logger, mailoutbox):
    alarm = open_alarm(logger, "F13")
    assert alarm_notify(alarm.pk)
    assert sorted(m.to[0] for m in mailoutbox) == sorted([installer.email, colleague.email])
    message = mailoutbox[0]
    assert "F13" in message.subject and "Maison Martin" in message.subject
    assert "Température élevée dissipateur" in message.body and "Que vérifier" in message.body


def test_an_installer_can_turn_off_warning_emails(installer, colleague, logger, mailoutbox):
    colleague.email_warnings = False
    colleague.save()
    alarm_notify(open_alarm(logger, "W04").pk)
    assert [m.to[0] for m in mailoutbox] == [installer.email]


def test_an_english_speaking_installer_gets_english(installer, logger, mailoutbox):
    installer.language = "en"
    installer.save()
    alarm_notify(open_alarm(logger, "F13").pk)
    assert "Heat-sink temperature high" in mailoutbox[0].body


def test_flapping_within_the_quiet_period_sends_no_second_email(installer, logger, mailoutbox):
    first = open_alarm(logger, "F13", minutes_ago=20)
    alarm_notify(first.pk)
    Alarm.objects.filter(pk=first.pk).update(cleared_at=timezone.now() - timedelta(minutes=10))
    second = open_alarm(logger, "F13", minutes_ago=5)
    assert not alarm_notify(second.pk)
    assert len(mailoutbox) == 1


def test_a_retried_notification_sends_nothing_twice(installer, logger, mailoutbox):
    alarm = open_alarm(logger, "F13")
    assert (alarm_notify(alarm.pk), alarm_notify(alarm.pk)) == (True, False)  # whether an e-mail went
    assert len(mailoutbox) == 1


def test_other_companies_get_no_email(installer, stranger, logger, mailoutbox, other_company):
    alarm_notify(open_alarm(logger, "F13").pk)
    assert stranger.email not in [m.to[0] for m in mailoutbox]


def test_detection_enqueues_the_email_after_commit(
    installer, logger, simulator, v5_device, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    plant = make_plant(installer.company, name="Chez Dupont")
    live = attach_logger(plant, v5_device, simulator)
    v5_device.fault_bits = 1 << 13
    with django_capture_on_commit_callbacks(execute=True):
        poll_loggers([live.id])
    assert any("Chez Dupont" in m.subject for m in mailoutbox)


def test_a_plants_alarm_tab_shows_its_history_only(installer, stranger, logger, company):
    other = Datalogger.objects.create(plant=make_plant(company, name="Voisin"), serial_number="2355553599")
    open_alarm(logger, "F13", cleared=True)
    open_alarm(other, "COM")
    response = login(installer).get(reverse("alarms:list"), {"plant": logger.plant.pk})
    body = text(response)
    assert response.context["plant"] == logger.plant and ">F13<" in body and ">COM<" not in body
    assert login(stranger).get(reverse("alarms:list"), {"plant": logger.plant.pk}).status_code == 404


def test_a_poll_whose_notifications_were_lost_is_emailed_once_by_the_outbox(
    installer, simulator, v5_device, mailoutbox, settings
):
    """As if the worker were killed right after the poll's commit: the on-commit tasks never ran."""
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    plant = make_plant(installer.company, name="Chez Lenoir")
    live = attach_logger(plant, v5_device, simulator)
    v5_device.raise_codes("F13", "F07", "W12")
    poll_loggers([live.id])  # no on-commit callback runs here: nothing is sent
    assert mailoutbox == [] and Alarm.objects.filter(notified_at__isnull=True).count() == 3
    # Past the warnings' 10-minute delay: every one of them is due.
    past = timezone.now() - timedelta(minutes=12)
    Alarm.objects.update(started_at=past, raised_at=past)
    send_pending_notifications.apply()
    send_pending_notifications.apply()  # a second sweep, or a redelivered task: nothing twice
    codes = sorted(m.subject.split("]")[0] for m in mailoutbox)
    assert codes == ["[F07", "[F13", "[W12"]
    assert not Alarm.objects.filter(notified_at__isnull=True).exists()


def test_a_claim_left_by_a_dead_worker_is_taken_again_after_its_lease(installer, logger, mailoutbox):
    alarm = open_alarm(logger, "F13", minutes_ago=20)
    Alarm.objects.filter(pk=alarm.pk).update(notify_claimed_at=timezone.now() - timedelta(minutes=1))
    send_pending_notifications.apply()
    assert mailoutbox == []  # still leased to the worker that claimed it
    Alarm.objects.filter(pk=alarm.pk).update(notify_claimed_at=timezone.now() - timedelta(minutes=10))
    send_pending_notifications.apply()
    assert [m.to[0] for m in mailoutbox] == [installer.email]


def test_an_alarm_email_contains_no_html_entity(installer, logger, mailoutbox):
    alarm_notify(open_alarm(logger, "COM").pk)  # « Communication perdue avec l'enregistreur »
    message = mailoutbox[0]
    assert "l'enregistreur" in message.subject and "&#" not in message.subject + message.body


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


def test_a_member_without_an_email_address_is_skipped(installer, colleague, logger, mailoutbox):
    colleague.email = ""
    colleague.save()
    alarm_notify(open_alarm(logger, "F13").pk)
    assert [m.to for m in mailoutbox] == [[installer.email]]


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


def test_the_outbox_leaves_alarms_younger_than_a_minute_and_those_a_worker_holds(logger):
    young = open_alarm(logger, "F13", minutes_ago=0.5)
    due = open_alarm(logger, "F07", minutes_ago=1.5)
    held = open_alarm(logger, "F12", minutes_ago=10)
    expired = open_alarm(logger, "W04", minutes_ago=10)
    Alarm.objects.filter(pk=held.pk).update(notify_claimed_at=timezone.now() - timedelta(seconds=10))
    Alarm.objects.filter(pk=expired.pk).update(notify_claimed_at=timezone.now() - timedelta(minutes=6))
    assert set(alarms_pending_notification()) == {due.pk, expired.pk}
    assert young.pk not in alarms_pending_notification()


def test_the_outbox_sends_at_most_five_hundred_at_a_time(logger):
    started = timezone.now() - timedelta(hours=1)
    Alarm.objects.bulk_create(
        Alarm(plant_id=logger.plant_id, datalogger=logger, code_id="COM", severity=2,
              started_at=started - timedelta(seconds=n), cleared_at=started)
        for n in range(501)
    )  # fmt: skip
    assert len(alarms_pending_notification()) == 500


def test_the_same_code_after_the_quiet_period_is_emailed_again(installer, logger, mailoutbox, settings):
    first = open_alarm(logger, "F13", minutes_ago=settings.ALARM_QUIET_MINUTES + 30, cleared=True)
    alarm_notify(first.pk)
    Alarm.objects.filter(pk=first.pk).update(
        notified_at=timezone.now() - timedelta(minutes=settings.ALARM_QUIET_MINUTES + 1)
    )
    alarm_notify(open_alarm(logger, "F13").pk)
    assert len(mailoutbox) == 2


def test_two_loggers_of_a_plant_losing_the_link_are_two_emails(installer, logger, mailoutbox):
    other = DataloggerFactory(plant=logger.plant)
    alarm_notify(open_alarm(logger, "COM").pk)
    alarm_notify(
        Alarm.objects.create(
            plant=logger.plant, datalogger=other, code_id="COM", started_at=timezone.now()
        ).pk
    )
    assert len(mailoutbox) == 2


def test_a_mail_server_down_is_logged_and_the_alarm_left_for_the_retry(installer, logger, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens
    alarm = open_alarm(logger, "F13")
    with pytest.raises(OSError):
        alarm_notify(alarm.pk)
    assert f"E-mail of alarm {alarm.pk} failed; it will be retried" in caplog.text
    assert any(record.exc_info for record in caplog.records)
    stored = Alarm.objects.get(pk=alarm.pk)
    assert stored.notify_claimed_at is None and stored.notified_at is None  # the next try may take it
