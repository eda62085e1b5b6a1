"""What a day's energy is worth: a day of readings, counted by the energy accounting and split by
half-hour, valued under Base, peak / off-peak and Tempo, equals a hand computation to the cent; a
price change in the middle of the month keeps the days before it at their price."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from devices.models import Reading
from economics.models import Tariff, TempoDay
from economics.money import money_by_day, money_periods, monthly, yearly
from energy.accounting import daily_energy_compute
from energy.models import DailyEnergy
from plants.models import Plant, PlantGrant

from .conftest import login, make_plant, text
from .factories import InverterFactory

PARIS = ZoneInfo("Europe/Paris")
HALF = timedelta(minutes=30)
RED_DAY = date(2026, 12, 15)  # a Tuesday of winter, when Tempo red days fall
NEXT_DAY = date(2026, 12, 16)

# What the house did, per half-hour of local time (kWh): a night charging the battery from the
# grid, a morning on the battery, a sunny noon exporting, an evening on the battery and the grid.
# (first half-hour, last half-hour excluded, {counter: kWh per half-hour})
DAY = [
    (0, 12, {"grid_import_today": "1.0", "battery_charge_today": "0.8", "load_energy_today": "0.2"}),
    (12, 16, {"battery_discharge_today": "0.5", "load_energy_today": "0.5"}),
    (24, 28, {"pv_energy_today": "1.5", "load_energy_today": "0.5", "grid_export_today": "1.0"}),
    (36, 44, {"load_energy_today": "0.6", "grid_import_today": "0.1", "battery_discharge_today": "0.5"}),
    (44, 47, {"grid_import_today": "0.3", "load_energy_today": "0.3"}),
]
COUNTERS = [
    "pv_energy_today",
    "load_energy_today",
    "grid_export_today",
    "grid_import_today",
    "battery_charge_today",
    "battery_discharge_today",
]


def day_of_readings(inverter, day, tz=PARIS):
    """The day's readings every half-hour, the counters rising as DAY says, from zero at midnight."""
    totals = dict.fromkeys(COUNTERS, Decimal(0))
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    rows = [Reading(inverter=inverter, slot=start, **totals)]
    for half in range(1, 48):
        for first, last, rises in DAY:
            if first <= half - 1 < last:
                for counter, kwh in rises.items():
                    totals[counter] += Decimal(kwh)
        rows.append(Reading(inverter=inverter, slot=start + half * HALF, **totals))
    Reading.objects.bulk_create(rows)


@pytest.fixture
def counted_days(plant):
    inverter = InverterFactory(datalogger__plant=plant)
    for day in (RED_DAY, NEXT_DAY):
        day_of_readings(inverter, day)
        daily_energy_compute(plants=[plant], day=day, now=datetime(2026, 12, 20, tzinfo=PARIS))
    return plant


def tariff(plant, **fields):
    return Tariff.objects.create(plant=plant, valid_from=date(2026, 12, 1), **fields)


def cents(money):
    return {
        name: getattr(money, name).quantize(Decimal("0.01"))
        for name in ("not_bought", "export_income", "import_cost", "battery_share")
    }


def the_red_day(plant):
    ((row, money),) = money_by_day(plant, RED_DAY, RED_DAY)
    return row, money


def test_the_day_is_split_by_half_hour_as_the_counters_rose(counted_days):
    row = DailyEnergy.objects.get(plant=counted_days, day=RED_DAY)
    assert row.grid_import_wh == 13_700 and row.consumption_wh == 12_100 and row.grid_export_wh == 4_000
    halves = row.half_hours
    assert halves["grid_import_wh"][:12] == [1000] * 12 and halves["grid_import_wh"][36:44] == [100] * 8
    assert halves["production_wh"][24:28] == [1500] * 4 and sum(halves["production_wh"]) == 6000
    assert sum(halves["battery_discharge_wh"]) == row.battery_discharge_wh == 6000


def test_base_equals_the_hand_computation(counted_days):
    tariff(counted_days, base_price=Decimal("0.2516"), feed_in="surplus", feed_in_price=Decimal("0.1269"))
    _row, money = the_red_day(counted_days)
    # Bought 13.7 kWh; used 8.0 kWh not bought (06-08, 12-14, 18-22: load less import); sold 4.0;
    # the battery gave back 6.0 kWh and took 9.6 kWh from the grid at the same price.
    assert cents(money) == {
        "not_bought": Decimal("2.01"),  # 8.0 × 0.2516 = 2.0128
        "export_income": Decimal("0.51"),  # 4.0 × 0.1269 = 0.5076
        "import_cost": Decimal("3.45"),  # 13.7 × 0.2516 = 3.44692
        "battery_share": Decimal("-0.91"),  # 6.0 × 0.2516 − 9.6 × 0.2516 = −0.90576
    }
    assert (money.days, money.unpriced_days) == (1, 0)


def test_a_total_sale_sells_the_production_and_the_house_buys_all_it_uses(counted_days):
    tariff(counted_days, base_price=Decimal("0.2516"), feed_in="total", feed_in_price=Decimal("0.1300"))
    _row, money = the_red_day(counted_days)
    assert cents(money) == {
        "not_bought": Decimal("0.00"),
        "export_income": Decimal("0.78"),  # the whole production, 6.0 × 0.13
        "import_cost": Decimal("3.45"),
        "battery_share": Decimal("0.00"),
    }


PEAK_OFF_PEAK = {
    "kind": Tariff.Kind.PEAK_OFF_PEAK,
    "off_peak_hours": "22:00-06:00",
    "peak_price": Decimal("0.2700"),
    "off_peak_price": Decimal("0.2068"),
}


def test_peak_and_off_peak_equal_the_hand_computation(counted_days):
    tariff(counted_days, **PEAK_OFF_PEAK, feed_in="surplus", feed_in_price=Decimal("0.1269"))
    _row, money = the_red_day(counted_days)
    assert cents(money) == {
        "not_bought": Decimal("2.16"),  # 8.0 × 0.27, all in peak hours
        "export_income": Decimal("0.51"),
        "import_cost": Decimal("2.88"),  # 12 × 0.2068 + 0.8 × 0.27 + 0.9 × 0.2068 = 2.88372
        "battery_share": Decimal("-0.37"),  # 6.0 × 0.27 − 9.6 × 0.2068 = −0.36528
    }


def test_the_off_peak_hours_are_the_plants_own_local_time(company):
    """A plant in La Réunion (UTC+4): its 22:00-06:00 off-peak hours are Saint-Denis time, not Paris's
    nor the server's."""
    reunion = ZoneInfo("Indian/Reunion")
    plant = make_plant(company, name="Case créole", time_zone="Indian/Reunion")
    day_of_readings(InverterFactory(datalogger__plant=plant), RED_DAY, tz=reunion)
    daily_energy_compute(plants=[plant], day=RED_DAY, now=datetime(2026, 12, 20, tzinfo=reunion))
    tariff(plant, **PEAK_OFF_PEAK)
    _row, money = the_red_day(plant)
    assert cents(money)["import_cost"] == Decimal("2.88")  # as in Lyon, at Saint-Denis's hours


TEMPO = {
    "kind": Tariff.Kind.TEMPO,
    "blue_peak_price": Decimal("0.1552"),
    "blue_off_peak_price": Decimal("0.1288"),
    "white_peak_price": Decimal("0.1792"),
    "white_off_peak_price": Decimal("0.1447"),
    "red_peak_price": Decimal("0.6586"),
    "red_off_peak_price": Decimal("0.1518"),
}


def test_a_tempo_red_day_equals_the_hand_computation(counted_days):
    tariff(counted_days, **TEMPO)
    TempoDay.objects.create(day=RED_DAY - timedelta(days=1), colour="blue")
    TempoDay.objects.create(day=RED_DAY, colour="red")
    _row, money = the_red_day(counted_days)
    # 00:00-06:00 is the night of the blue day before (its off-peak price); 06:00-22:00 red peak,
    # 22:00-24:00 red off-peak.
    assert cents(money) == {
        "not_bought": Decimal("5.27"),  # 8.0 × 0.6586 = 5.2688
        "export_income": Decimal("0.00"),  # no sale contract
        "import_cost": Decimal("2.21"),  # 12 × 0.1288 + 0.8 × 0.6586 + 0.9 × 0.1518 = 2.2091
        "battery_share": Decimal("2.72"),  # 6.0 × 0.6586 − 9.6 × 0.1288 = 2.71512
    }


def test_a_tempo_day_without_its_colour_is_not_valued(counted_days):
    tariff(counted_days, **TEMPO)
    TempoDay.objects.create(day=RED_DAY, colour="red")  # the night before it is the 14th's: unknown
    _row, money = the_red_day(counted_days)
    assert money.unpriced_days == 1 and money.days == 0 and money.savings == 0


def test_a_price_change_mid_month_keeps_the_days_before_it(counted_days, installer):
    tariff(counted_days, base_price=Decimal("0.2516"))
    Tariff.objects.create(plant=counted_days, valid_from=NEXT_DAY, base_price=Decimal("0.3000"))
    (_first, before), (_second, after) = money_by_day(counted_days, RED_DAY, NEXT_DAY)
    assert cents(before)["import_cost"] == Decimal("3.45")  # 13.7 × 0.2516
    assert cents(after)["import_cost"] == Decimal("4.11")  # 13.7 × 0.30
    with time_machine.travel(datetime(2026, 12, 16, 23, 50, tzinfo=PARIS), tick=False):
        page = text(login(installer).get(reverse("economics:savings", args=[counted_days.pk])))
        dashboard = text(login(installer).get(reverse("plants:detail", args=[counted_days.pk])))
    assert "Cette période de facturation : <strong>4,41\u00a0€</strong>" in dashboard
    # This billing period (from the 1st): 8.0 × 0.2516 + 8.0 × 0.30 = 4.4128 not bought, and
    # 3.44692 + 4.11 = 7.55692 of purchases, in French.
    assert "4,41\u00a0€" in page and "7,56\u00a0€" in page
    assert '<th scope="row">2026</th><td>4,41\u00a0€</td>' in page  # the year's row


def test_the_savings_csv_has_each_day_to_the_cent_in_french(counted_days, installer):
    tariff(counted_days, base_price=Decimal("0.2516"), feed_in="surplus", feed_in_price=Decimal("0.1269"))
    url = reverse("economics:savings_csv", args=[counted_days.pk])
    response = login(installer).get(url, {"start": "2026-12-15", "end": "2026-12-16"})
    lines = b"".join(response.streaming_content).decode().lstrip("\ufeff").splitlines()
    assert lines[1] == "2026-12-15;Base;2,01;0,51;3,45;-0,91;oui"
    assert len(lines) == 3


def test_the_customer_sees_the_savings_from_the_hand_over_only(counted_days, customer, installer):
    tariff(counted_days, base_price=Decimal("0.2516"))
    PlantGrant.objects.create(plant=counted_days, customer=customer, granted_by=installer)
    Plant.objects.filter(pk=counted_days.pk).update(
        customer_history_since=datetime(2026, 12, 15, 12, tzinfo=PARIS)
    )
    counted_days.refresh_from_db()
    # The 15th mixes both owners: only the 16th is the new owner's.
    assert [row.day for row, _m in money_by_day(counted_days, RED_DAY, NEXT_DAY)] == [RED_DAY, NEXT_DAY]
    since = counted_days.history_since_for(customer)
    assert [row.day for row, _m in money_by_day(counted_days, RED_DAY, NEXT_DAY, since=since)] == [NEXT_DAY]
    (in_all,) = money_periods(counted_days, NEXT_DAY, {"all": "a"}, since=since)  # the dashboard's
    assert in_all.first == NEXT_DAY and in_all.money.days == 1


def bought(plant, day, kwh=1):
    """A day when the house bought `kwh` in its first half-hour, and nothing else."""
    DailyEnergy.objects.create(
        plant=plant, company=plant.company, day=day, grid_import_wh=kwh * 1000, consumption_wh=kwh * 1000,
        half_hours={"grid_import_wh": [kwh * 1000], "consumption_wh": [kwh * 1000]},
    )  # fmt: skip


def test_the_periods_follow_the_billing_day_across_the_new_year(plant):
    Tariff.objects.create(plant=plant, valid_from=date(2025, 12, 1), base_price=Decimal("1"), billing_day=5)
    for day in (date(2025, 12, 20), date(2026, 1, 3), date(2026, 1, 6), date(2026, 1, 7)):
        bought(plant, day)
    labels = {"today": "t", "billing": "b", "year": "y", "all": "a"}
    today = date(2026, 1, 7)
    periods = {p.label: p for p in money_periods(plant, today, labels)}
    assert {label: (p.first, p.last, p.money.import_cost) for label, p in periods.items()} == {
        "t": (today, today, Decimal(1)),
        "b": (date(2026, 1, 5), today, Decimal(2)),  # from the billing day
        "y": (date(2026, 1, 1), today, Decimal(3)),
        "a": (date(2025, 12, 20), today, Decimal(4)),  # from the first day counted
    }
    # The billing day after today: the period began in the month before.
    (billing,) = money_periods(plant, date(2026, 1, 4), {"billing": "b"})
    assert billing.first == date(2025, 12, 5) and billing.money.import_cost == Decimal(2)
    # In March, the year still began on the 1st of January.
    (year,) = money_periods(plant, date(2026, 3, 2), {"year": "y"})
    assert year.first == date(2026, 1, 1) and year.money.import_cost == Decimal(3)
    days = money_by_day(plant, date(2025, 1, 1), today)
    assert [(m, money.import_cost) for m, money in monthly(days)] == [
        (date(2025, 12, 1), Decimal(1)),
        (date(2026, 1, 1), Decimal(3)),
    ]
    assert [(y, money.import_cost) for y, money in yearly(days)] == [
        (date(2025, 1, 1), Decimal(1)),
        (date(2026, 1, 1), Decimal(3)),
    ]


def test_without_a_tariff_the_billing_period_is_the_month_and_nothing_is_valued(plant):
    bought(plant, date(2026, 1, 6))
    (billing,) = money_periods(plant, date(2026, 1, 7), {"billing": "b"})
    assert billing.first == date(2026, 1, 1) and billing.money.unpriced_days == 1 and billing.money.days == 0


def test_a_plant_is_valued_with_its_own_energy_only(plant, company):
    neighbour = make_plant(company, name="Voisin")
    Tariff.objects.create(plant=plant, valid_from=date(2026, 1, 1), base_price=Decimal("1"))
    bought(plant, date(2026, 1, 6))
    bought(neighbour, date(2026, 1, 6), kwh=5)
    ((_row, money),) = money_by_day(plant, date(2026, 1, 1), date(2026, 1, 31))
    assert money.import_cost == Decimal(1)


def test_the_battery_charged_by_the_sun_gives_up_the_sale_it_would_have_made(plant):
    """2 kWh of noon sun into the battery (nothing bought), given back in the evening: worth the
    evening's price less what those 2 kWh would have sold for."""
    Tariff.objects.create(
        plant=plant, valid_from=date(2026, 1, 1), base_price=Decimal("0.25"),
        feed_in="surplus", feed_in_price=Decimal("0.10"),
    )  # fmt: skip
    noon, evening = [0] * 24 + [2000], [0] * 38 + [2000]
    DailyEnergy.objects.create(
        plant=plant, company=plant.company, day=date(2026, 1, 6), production_wh=2000, consumption_wh=2000,
        battery_charge_wh=2000, battery_discharge_wh=2000,
        half_hours={"production_wh": noon, "battery_charge_wh": noon, "battery_discharge_wh": evening,
                    "consumption_wh": evening},
    )  # fmt: skip
    ((_row, money),) = money_by_day(plant, date(2026, 1, 6), date(2026, 1, 6))
    assert money.battery_share == Decimal("0.30")  # 2 × 0.25 − 2 × 0.10
    assert money.not_bought == Decimal("0.50") and money.export_income == 0
