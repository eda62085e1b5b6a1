"""Threshold rules: a live value beyond a company's threshold for the rule's minutes opens one alarm,
not before; back within the threshold, it clears. Real polls of the simulator; time-machine's clock."""

from datetime import timedelta

import pytest
from django.utils import translation

from alarms.models import Alarm, ThresholdRule
from alarms.rules import rule_alarms_from_poll
from devices.models import Datalogger, Inverter, PollOutcome
from devices.reading import PollResult

from .clocked_polls import MORNING
from .conftest import make_plant

pytestmark = pytest.mark.integration


@pytest.fixture
def polls(clocked_polls, plant, installer):
    return clocked_polls(plant)


@pytest.fixture
def low_soc(company):
    return ThresholdRule.objects.create(
        company=company,
        name="Batterie vide",
        value="battery_soc",
        comparison="below",
        threshold=15,
        minutes=30,
    )


def test_soc_below_15_for_30_minutes_fires_once_after_30_minutes_not_before(polls, low_soc, mailoutbox):
    polls(battery_soc=12.0)
    for _ in range(2):
        polls(after=timedelta(minutes=10), battery_soc=11.0)
    assert not Alarm.objects.filter(rule=low_soc).exists() and mailoutbox == []
    polls(after=timedelta(minutes=10), battery_soc=10.5)  # 30 minutes below
    polls(after=timedelta(minutes=10), battery_soc=10.0)
    alarm = Alarm.objects.get(rule=low_soc)
    assert alarm.started_at == MORNING and alarm.cleared_at is None
    assert len(mailoutbox) == 1
    with translation.override("fr"):
        assert "Batterie vide" in str(alarm.detail) and "10,5" in str(alarm.detail)
    polls(after=timedelta(minutes=5), battery_soc=40.0)
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None and len(mailoutbox) == 1


def test_a_dip_shorter_than_the_rule_starts_over(polls, low_soc):
    polls(battery_soc=12.0)
    polls(after=timedelta(minutes=20), battery_soc=12.0)
    polls(after=timedelta(minutes=5), battery_soc=30.0)  # back above: the 30 minutes start over
    polls(after=timedelta(minutes=5), battery_soc=12.0)
    polls(after=timedelta(minutes=20), battery_soc=12.0)
    assert not Alarm.objects.filter(rule=low_soc).exists()


def test_a_rule_for_another_system_type_or_other_plants_does_not_apply(polls, low_soc, company):
    low_soc.system_type = "ac_backup"
    low_soc.save()
    other = ThresholdRule.objects.create(
        company=company, name="Tension", value="grid_voltage", comparison="above", threshold=253, minutes=0
    )
    other.plants.set([make_plant(company, name="Ailleurs")])
    polls(battery_soc=5.0, grid_voltage=260.0)
    polls(after=timedelta(minutes=40), battery_soc=5.0, grid_voltage=260.0)
    assert not Alarm.objects.filter(code_id="THR").exists()


def test_a_code_alarm_and_a_rule_alarm_live_side_by_side(polls, low_soc):
    polls("W07", battery_soc=5.0)
    polls("W07", after=timedelta(minutes=31), battery_soc=5.0)
    assert sorted(Alarm.objects.active().values_list("code_id", flat=True)) == ["THR", "W07"]


def test_one_string_under_a_tenth_of_the_other_for_an_hour_opens_the_string_finding(polls, plant):
    strings = {"pv1_voltage": 360.0, "pv2_voltage": 355.0, "pv1_power": 2400, "pv2_power": 150}
    polls(**strings)
    polls(after=timedelta(minutes=30), **strings)
    assert not Alarm.objects.filter(code_id="P02").exists()
    polls(after=timedelta(minutes=31), **strings)
    alarm = Alarm.objects.get(code_id="P02")
    with translation.override("fr"):
        assert "PV1 2\u202f400 W" in str(alarm.detail) or "PV1 2400 W" in str(alarm.detail)
        assert "PV2 150 W" in str(alarm.detail)
    polls(after=timedelta(minutes=5), **{**strings, "pv2_power": 2300})
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None


@pytest.mark.parametrize(
    "strings",
    [
        {"pv1_voltage": 360.0, "pv2_voltage": 0.0, "pv1_power": 2400, "pv2_power": 0},  # one string wired
        {"pv1_voltage": 360.0, "pv2_voltage": 355.0, "pv1_power": 300, "pv2_power": 20},  # too little sun
        {
            "pv1_voltage": 360.0,
            "pv2_voltage": 355.0,
            "pv1_power": 2400,
            "pv2_power": 1500,
        },  # unequal, not dead
    ],
)
def test_no_string_finding_for_one_string_little_sun_or_unequal_strings(polls, strings):
    polls(**strings)
    polls(after=timedelta(minutes=90), **strings)
    assert not Alarm.objects.filter(code_id="P02").exists()


@pytest.mark.parametrize("count", [3, 30])
def test_healthy_polls_cost_the_rules_no_query_per_inverter(
    company, low_soc, count, django_assert_max_num_queries
):
    """Nothing crossed, no string low: the batch's rules and built-in checks read their states and
    open alarms once, whatever the number of inverters (a DELETE per inverter made 2,500 polls 4 s)."""
    items = []
    for i in range(count):
        plant = make_plant(company, name=f"P{i}")
        logger = Datalogger.objects.create(plant=plant, serial_number=str(2407000000 + i), host="127.0.0.1")
        inverter = Inverter.objects.create(datalogger=logger, serial_number=f"H{i}")
        result = PollResult(logger.id, outcome=PollOutcome.OK, values={"battery_soc": 60.0})
        items.append((logger, inverter, result))
    with django_assert_max_num_queries(4):
        assert rule_alarms_from_poll(items) == []
