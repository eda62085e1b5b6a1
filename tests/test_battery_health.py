"""Battery health over time: the state of health (3075) and discharge total (3292) a real poll of the
simulator reads are kept once a day with the equivalent full cycles; findings P07 (under the
warranty level) and P08 (falling fast); a chart per battery on the plant's Battery tab."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from alarms.models import Alarm
from devices import polling
from devices.models import InverterLive
from energy.battery import battery_days_record
from energy.models import BatteryDay
from monitoring.findings import battery_health_findings
from plants.models import Plant

from .conftest import attach_logger, login, text
from .factories import InverterFactory


@pytest.fixture(autouse=True)
def fast_devices(settings):
    settings.DEVICE_TIMEOUT_SECONDS = 0.5
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01


def days_of(inverter, sohs, *, last=None):
    """One stored day per state of health, the last on `last` (today by default)."""
    plant = inverter.datalogger.plant
    last = last or timezone.localdate(timezone.now(), plant.tzinfo)
    for n, soh in enumerate(reversed(sohs)):
        BatteryDay.objects.create(
            plant=plant, inverter=inverter, day=last - timedelta(days=30 * n), soh_pct=Decimal(str(soh))
        )
    return last


def test_a_polled_batterys_health_and_cycles_are_kept_once_a_day(plant, simulator, v5_device):
    v5_device.overrides = {"battery_soh": 96.5, "battery_discharge_total": 2500}
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.pk])
    assert battery_days_record() == 1
    v5_device.overrides = {"battery_soh": 96.4, "battery_discharge_total": 2510}
    polling.poll_loggers([logger.pk])
    battery_days_record()  # the day's last values win
    (row,) = BatteryDay.objects.all()
    assert row.soh_pct == Decimal("96.4") and row.discharge_total_kwh == 2510
    assert row.cycles == Decimal("251.0")  # 2510 kWh over the AURA 10KM-BG's 10 kWh
    assert row.day == timezone.localdate(timezone.now(), plant.tzinfo)


def test_values_of_an_earlier_day_do_not_make_todays_row(plant):
    inverter = InverterFactory(datalogger__plant=plant)
    InverterLive.objects.create(
        inverter=inverter, values={"battery_soh": 90}, at=timezone.now() - timedelta(days=2)
    )
    assert battery_days_record() == 0 and not BatteryDay.objects.exists()


def test_cycles_are_unknown_without_a_known_capacity(company):
    plant = Plant.objects.create(
        company=company, name="Sans batterie déclarée", address="-", postcode="69003", city="Lyon",
        pv_power_kwp=3, battery_model="",
    )  # fmt: skip
    inverter = InverterFactory(datalogger__plant=plant)
    InverterLive.objects.create(
        inverter=inverter, values={"battery_soh": 99, "battery_discharge_total": 40}, at=timezone.now()
    )
    battery_days_record()
    assert BatteryDay.objects.get().cycles is None


@pytest.mark.parametrize(
    ("sohs", "codes"),
    [
        ([99, 98.5, 98], []),  # an ordinary year
        ([70.5, 70.2, 69.9], ["P07"]),  # under the warranty's 70 %
        ([96, 93, 90.5], ["P08"]),  # 5.5 points in 60 days
        ([80, 72, 68], ["P07", "P08"]),
        ([95, 92, 90], []),  # 5 points: not more than the limit
        ([90, 97, 91], ["P08"]),  # from its highest (a BMS recalibrated upwards), not its oldest
    ],
)
def test_findings_open_at_the_warranty_level_and_on_a_fast_fall(plant, sohs, codes):
    inverter = InverterFactory(datalogger__plant=plant)
    day = days_of(inverter, sohs)
    battery_health_findings(day=day)
    assert sorted(Alarm.objects.values_list("code_id", flat=True)) == codes


def test_a_fall_older_than_the_period_is_not_ageing_fast(plant, settings):
    settings.BATTERY_SOH_DROP_DAYS = 45
    inverter = InverterFactory(datalogger__plant=plant)
    day = days_of(inverter, [99, 93, 92])  # the 6-point fall is 60 days old
    battery_health_findings(day=day)
    assert not Alarm.objects.exists()


def test_a_replaced_battery_clears_its_findings(plant):
    inverter = InverterFactory(datalogger__plant=plant)
    day = days_of(inverter, [80, 72, 68])
    battery_health_findings(day=day)
    assert Alarm.objects.active().count() == 2
    following = day + timedelta(days=1)
    BatteryDay.objects.create(plant=plant, inverter=inverter, day=following, soh_pct=100)
    BatteryDay.objects.filter(day__lt=following).delete()  # the new battery's first day only
    battery_health_findings(day=following)
    assert not Alarm.objects.active().exists()


def test_the_battery_tab_charts_each_battery(installer, customer, granted_plant, stranger):
    inverter = InverterFactory(datalogger__plant=granted_plant)
    days_of(inverter, [99, 98, 97])
    url = reverse("energy:battery", args=[granted_plant.pk])
    page = text(login(installer).get(url))
    assert "97,0" in page and "<polyline" in page and inverter.serial_number in page
    shown = text(login(customer).get(url))
    assert "97,0" in shown and inverter.serial_number not in shown  # a customer's pages hide serials
    assert login(stranger).get(url).status_code == 404


def test_a_new_owner_sees_no_health_from_before_the_hand_over(customer, granted_plant):
    inverter = InverterFactory(datalogger__plant=granted_plant)
    day = days_of(inverter, [91.1, 90.2])
    Plant.objects.filter(pk=granted_plant.pk).update(
        customer_history_since=timezone.now() - timedelta(days=1)
    )
    page = text(login(customer).get(reverse("energy:battery", args=[granted_plant.pk])))
    assert "91,1" not in page and "90,2" in page
    assert day == timezone.localdate(timezone.now(), granted_plant.tzinfo)
