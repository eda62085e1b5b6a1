"""Alarm e-mails (`alarm_notify` and the outbox task `send_pending_notifications`): who gets them, in
which language, once, and what a mail server down or a dead worker leaves."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alarms.models import Alarm
from alarms.services import alarm_notify, alarms_pending_notification
from alarms.tasks import send_pending_notifications
from devices.polling import poll_loggers

from .conftest import attach_logger, make_plant
from .factories import DataloggerFactory, open_alarm


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


def test_a_member_without_an_email_address_is_skipped(installer, colleague, logger, mailoutbox):
    colleague.email = ""
    colleague.save()
    alarm_notify(open_alarm(logger, "F13").pk)
    assert [m.to for m in mailoutbox] == [[installer.email]]


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
