"""Who may do what (core.scoping): the verb an API request needs, the menu each role is offered, and
the hand-over boundary by day in the plant's own time zone."""

from datetime import UTC, date, datetime

import pytest
from django.test import RequestFactory
from django.urls import reverse

from alarms.models import Alarm
from core.scoping import CHANGE, VIEW, api_action
from energy.models import DailyEnergy
from plants.models import Plant

from .conftest import login, text
from .factories import InverterFactory


@pytest.mark.parametrize(
    ("method", "action"),
    [("GET", VIEW), ("HEAD", VIEW), ("OPTIONS", VIEW), ("POST", CHANGE), ("PUT", CHANGE),
     ("PATCH", CHANGE), ("DELETE", CHANGE)],
)  # fmt: skip
def test_an_api_request_needs_change_unless_it_only_reads(method, action):
    assert api_action(RequestFactory().generic(method, "/api/v1/plants/")) == action


def test_each_role_is_offered_its_own_work(admin_user, installer, customer, granted_plant):
    admin_page = text(login(admin_user).get(reverse("plants:list")))
    assert reverse("account_requests") in admin_page and reverse("companies") in admin_page
    installer_page = text(login(installer).get(reverse("plants:list")))
    assert reverse("plants:create") in installer_page and reverse("alarms:list") in installer_page
    assert reverse("team") in installer_page and reverse("account_requests") not in installer_page
    next_step = reverse("plants:commission", args=[granted_plant.pk, "datalogger"])  # no logger yet
    assert next_step in installer_page
    customer_page = text(login(customer).get(reverse("plants:list")))
    assert reverse("plants:create") not in customer_page and reverse("alarms:list") not in customer_page
    assert next_step not in customer_page
    assert "My plants" in customer_page or "Mes centrales" in customer_page
    # The alarm list's CSV export: offered to pros, not to customers.
    assert reverse("alarms:export") in text(login(installer).get(reverse("alarms:list")))
    assert reverse("alarms:export") not in text(login(customer).get(reverse("alarms:list")))


def test_an_alarm_opens_for_the_installer_and_not_for_the_customer(installer, customer, granted_plant):
    inverter = InverterFactory(datalogger__plant=granted_plant)
    alarm = Alarm.objects.create(
        plant=granted_plant, datalogger=inverter.datalogger, inverter=inverter, code_id="F13",
        started_at=datetime.now(UTC),
    )  # fmt: skip
    detail = reverse("alarms:detail", args=[alarm.pk])
    assert detail in text(login(installer).get(reverse("plants:detail", args=[granted_plant.pk])))
    assert detail not in text(login(customer).get(reverse("plants:detail", args=[granted_plant.pk])))


def _day(plant, day):
    return DailyEnergy.objects.create(plant=plant, company_id=plant.company_id, day=day, production_wh=1000)


def test_a_new_owner_sees_the_days_after_the_hand_over_day_in_the_plants_time_zone(
    installer, customer, granted_plant
):
    """Handed over at 22:30 UTC on 1 June, 00:30 on 2 June in Paris: 2 June mixes both owners and
    is hidden; 3 June is the new owner's first whole day. The installer keeps every day."""
    days = [date(2026, 5, 31), date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)]
    for day in days:
        _day(granted_plant, day)
    Plant.objects.filter(pk=granted_plant.pk).update(
        customer_history_since=datetime(2026, 6, 1, 22, 30, tzinfo=UTC)
    )
    seen = DailyEnergy.objects.restrict(customer).filter(plant=granted_plant).values_list("day", flat=True)
    assert list(seen) == [date(2026, 6, 3)]
    kept = DailyEnergy.objects.restrict(installer).filter(plant=granted_plant).values_list("day", flat=True)
    assert list(kept) == days


def test_the_installer_keeps_the_alarms_of_before_a_hand_over(installer, customer, granted_plant):
    inverter = InverterFactory(datalogger__plant=granted_plant)
    before = datetime(2026, 5, 1, 12, tzinfo=UTC)
    Alarm.objects.create(
        plant=granted_plant, datalogger=inverter.datalogger, inverter=inverter, code_id="F13",
        started_at=before, cleared_at=before,
    )  # fmt: skip
    Plant.objects.filter(pk=granted_plant.pk).update(customer_history_since=datetime(2026, 6, 1, tzinfo=UTC))
    assert Alarm.objects.restrict(installer).filter(plant=granted_plant).count() == 1
    assert Alarm.objects.restrict(customer).filter(plant=granted_plant).count() == 0
