"""When an alarm is worth telling someone: after its company's delay (warnings 10 minutes by default,
faults at once), and a code back within the quiet period is the same incident. Real polls of the
simulator; the clock moved by time-machine."""

from datetime import timedelta

import pytest

from alarms.models import Alarm, AlarmPolicy

pytestmark = pytest.mark.integration


@pytest.fixture
def poll(clocked_polls, plant, installer):
    return clocked_polls(plant)


def test_a_warning_that_lasts_5_minutes_notifies_nobody(poll, mailoutbox):
    poll("W07")
    poll(after=timedelta(minutes=5))  # cleared
    poll(after=timedelta(minutes=10))
    assert mailoutbox == []
    alarm = Alarm.objects.get()
    assert alarm.cleared_at is not None and alarm.notified_at is not None and not alarm.emailed


def test_a_warning_that_lasts_15_minutes_notifies_once(poll, mailoutbox):
    poll("W07")
    poll("W07", after=timedelta(minutes=5))
    assert mailoutbox == []
    poll("W07", after=timedelta(minutes=6))
    poll("W07", after=timedelta(minutes=4))
    assert len(mailoutbox) == 1 and "W07" in mailoutbox[0].subject


def test_a_fault_notifies_at_once(poll, mailoutbox):
    poll("F13")
    assert len(mailoutbox) == 1


def test_a_code_back_within_the_quiet_period_is_the_same_incident(poll, mailoutbox):
    poll("W07")
    poll(after=timedelta(minutes=3))
    poll("W07", after=timedelta(minutes=3))
    poll("W07", after=timedelta(minutes=12))  # now it has lasted: told once
    poll(after=timedelta(minutes=1))
    poll("W07", after=timedelta(minutes=20))  # back within the hour: still the same, not told again
    poll("W07", after=timedelta(minutes=15))
    alarm = Alarm.objects.get()
    assert alarm.times_raised == 3 and alarm.cleared_at is None
    assert len(mailoutbox) == 1


def test_a_code_back_after_the_quiet_period_is_a_new_incident(poll):
    poll("W07")
    poll(after=timedelta(minutes=1))
    poll("W07", after=timedelta(minutes=61))
    assert Alarm.objects.count() == 2


def test_the_companys_own_delays_apply(poll, mailoutbox, company):
    AlarmPolicy.objects.create(company=company, fault_delay_minutes=30, code_delays={"W07": 0})
    poll("F13", "W07")
    assert [m.subject for m in mailoutbox if "W07" in m.subject] and not [
        m for m in mailoutbox if "F13" in m.subject
    ]
    poll("F13", "W07", after=timedelta(minutes=31))
    assert [m for m in mailoutbox if "F13" in m.subject]
