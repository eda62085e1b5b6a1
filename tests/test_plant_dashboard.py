"""The plant dashboard, its live fragment, its JSON endpoints and its CSV exports."""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from devices.models import DeviceStatus, InverterLive, Reading
from energy.accounting import monthly_energy_update
from energy.models import DailyEnergy
from plants.models import SystemType

from .conftest import login, make_plant, text
from .factories import InverterFactory

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def inverter(plant):
    inverter = InverterFactory(
        datalogger__plant=plant,
        datalogger__serial_number="2401000077",
        datalogger__status=DeviceStatus.ONLINE,
        datalogger__last_seen_at=timezone.now() - timedelta(seconds=40),
        serial_number="KS0000077",
        status=DeviceStatus.ONLINE,
        model_name="BluE-S 6000D",
    )
    InverterLive.objects.create(
        inverter=inverter, at=timezone.now() - timedelta(seconds=40),
        values={"pv_power": 3150, "load_power": 1210, "grid_power": -920, "battery_power": -1020,
                "battery_soc": 62.5, "pv_energy_today": 8.4},
    )  # fmt: skip
    return inverter


def test_the_live_flow_says_directions_in_words_with_french_numbers(installer, plant, inverter):
    page = text(login(installer).get(reverse("plants:detail", args=[plant.pk])))
    assert "3,15\u00a0kW" in page  # solar
    assert "en charge 1,02\u00a0kW" in page  # battery: − is charge in the map
    assert "injecte 920\u00a0W" in page  # grid: − is export
    assert "62\u00a0%" in page or "63\u00a0%" in page
    assert "En direct, mis à jour il y a 40\u00a0s" in page
    assert "KS0000077" in page and "2401000077" in page  # the installer sees the devices' serials


def test_values_older_than_two_poll_cycles_are_shown_as_stale(installer, plant, inverter, settings):
    InverterLive.objects.update(at=timezone.now() - timedelta(seconds=3 * settings.POLL_INTERVAL_SECONDS))
    page = text(login(installer).get(reverse("plants:detail", args=[plant.pk])))
    assert "Pas en direct\u00a0: dernières valeurs reçues il y a 3\u00a0min" in page
    assert "En direct" not in page


def test_the_live_fragment_refreshes_itself(customer, granted_plant, inverter, settings):
    response = login(customer).get(reverse("plants:live", args=[granted_plant.pk]))
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert f'hx-trigger="every {settings.DASHBOARD_REFRESH_SECONDS}s"' in body
    assert "3,15\u00a0kW" in body


def test_todays_tiles_completeness_and_ratios(installer, plant, inverter):
    now = timezone.now()
    slot = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
    Reading.objects.create(inverter=inverter, slot=slot, pv_energy_today=Decimal("8.4"),
                           load_energy_today=Decimal("6.0"), grid_export_today=Decimal("3.0"),
                           grid_import_today=Decimal("0.6"))  # fmt: skip
    page = text(login(installer).get(reverse("plants:detail", args=[plant.pk])))
    assert "8,4\u00a0kWh" in page and "6,0\u00a0kWh" in page
    assert "64\u00a0%" in page  # self-consumption (8.4 − 3.0) / 8.4
    assert "90\u00a0%" in page  # self-sufficiency (6.0 − 0.6) / 6.0
    row = DailyEnergy.objects.get(plant=plant)
    if row.slots_expected > 1:
        assert "Données complètes à" in page


def test_a_retrofit_plant_says_its_other_pv_is_derived(installer, company):
    plant = make_plant(company, name="Retrofit", system_type=SystemType.DC_AC)
    page = text(login(installer).get(reverse("plants:detail", args=[plant.pk])))
    assert "déduite du bilan" in page


def test_the_customer_sees_the_dashboard_without_technical_details(customer, granted_plant, inverter):
    page = text(login(customer).get(reverse("plants:detail", args=[granted_plant.pk])))
    assert "3,15\u00a0kW" in page
    assert "KS0000077" not in page and "2401000077" not in page
    assert reverse("devices:inverter", args=[inverter.pk]) not in page
    assert "Retirer" not in page and "Déplacer" not in page


def test_power_json_has_one_value_per_slot_and_gaps_as_null(installer, plant, inverter):
    day = date(2026, 10, 25)  # 25 hours in Paris
    noon = datetime(2026, 10, 25, 12, tzinfo=PARIS)
    Reading.objects.create(inverter=inverter, slot=noon, pv_power=3000, load_power=800, battery_power=-500,
                           grid_power=-1700, battery_soc=Decimal("55.0"))  # fmt: skip
    data = login(installer).get(f"/api/v1/plants/{plant.pk}/power/?date={day}").json()
    assert len(data["slots"]) == 300 and data["slots_with_data"] == 1
    i = data["slots"].index("12:00")
    assert data["pv_power"][i] == 3000 and data["grid_power"][i] == -1700
    assert data["pv_power"][i - 1] is None and data["pv_power"][i + 1] is None  # gaps, not zeros
    assert data["previous"] == "2026-10-24" and data["next"] == "2026-10-26"


@pytest.mark.parametrize(
    "query, reason",
    [("date=2026-13-01", "date"), ("date=99999-01-01", "date"), ("date=1800-01-01", "date")],
)
def test_a_bad_day_is_a_400_with_its_reason(installer, plant, query, reason):
    response = login(installer).get(f"/api/v1/plants/{plant.pk}/power/?{query}")
    assert response.status_code == 400 and reason in response.json()


def test_energy_json_by_month_year_and_total(installer, plant, company):
    for day, wh in ((date(2025, 12, 31), 5000), (date(2026, 1, 1), 7000), (date(2026, 1, 2), 8000)):
        DailyEnergy.objects.create(
            plant=plant, company=company, day=day, production_wh=wh, consumption_wh=wh // 2,
            slots_with_data=288, slots_expected=288,
        )  # fmt: skip
    for month in (date(2025, 12, 1), date(2026, 1, 1)):
        monthly_energy_update(plant_ids=[plant.pk], month=month, now=timezone.now())
    client = login(installer)
    month = client.get(f"/api/v1/plants/{plant.pk}/energy/?period=month&date=2026-01").json()
    assert [b["label"] for b in month["bars"]] == ["2026-01-01", "2026-01-02"]
    assert month["totals"]["production_wh"] == 15000
    assert month["previous"] == "2025-12" and month["next"] == "2026-02"
    year = client.get(f"/api/v1/plants/{plant.pk}/energy/?period=year&date=2026").json()
    assert year["bars"][0]["label"] == "2026-01" and year["bars"][0]["production_wh"] == 15000
    total = client.get(f"/api/v1/plants/{plant.pk}/energy/?period=total").json()
    assert [(b["label"], b["production_wh"]) for b in total["bars"]][:2] == [("2025", 5000), ("2026", 15000)]
    assert client.get(f"/api/v1/plants/{plant.pk}/energy/?period=month&date=janvier").status_code == 400
    assert client.get(f"/api/v1/plants/{plant.pk}/energy/?period=week").status_code == 400


def _csv(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body), delimiter=";"))


def test_csv_exports_for_the_plants_customer_in_french_excel(customer, granted_plant, inverter, company):
    DailyEnergy.objects.create(
        plant=granted_plant, company=company, day=date(2026, 6, 1), production_wh=21400,
        slots_with_data=144, slots_expected=288,
    )  # fmt: skip
    Reading.objects.create(inverter=inverter, slot=datetime(2026, 6, 1, 12, tzinfo=PARIS), pv_power=4100)
    client = login(customer)
    daily = _csv(client.get(f"/plants/{granted_plant.pk}/energy.csv?start=2026-06-01&end=2026-06-30"))
    assert daily[0][0] == "Jour" and daily[1][:2] == ["2026-06-01", "21400"] and daily[1][-1] == "50"
    readings = _csv(client.get(f"/plants/{granted_plant.pk}/readings.csv?start=2026-06-01&end=2026-06-01"))
    # The inverter by its number: a customer's pages and exports show no serial number.
    assert readings[1][:4] == ["2026-06-01 12:00:00 +02:00", "Onduleur 1", "1", "4100"]


def test_csv_range_errors_are_400s_with_the_reason(installer, plant):
    client = login(installer)
    response = client.get(f"/plants/{plant.pk}/readings.csv?start=2026-06-10&end=2026-06-01")
    assert response.status_code == 400 and "La fin est avant le début" in text(response)
    response = client.get(f"/plants/{plant.pk}/energy.csv?start=2020-01-01&end=2026-01-01")
    assert response.status_code == 400 and "400 jours" in text(response)
    assert client.get(f"/plants/{plant.pk}/energy.csv?start=2026-02-30&end=2026-03-01").status_code == 400


def test_another_customer_gets_404_in_pages_json_and_csv(stranger, customer, granted_plant, company):
    other = make_plant(company, name="Pas à moi")
    for client in (login(customer), login(stranger)):
        for url in (
            f"/plants/{other.pk}/",
            f"/plants/{other.pk}/live/",
            f"/api/v1/plants/{other.pk}/power/",
            f"/api/v1/plants/{other.pk}/energy/",
            f"/api/v1/plants/{other.pk}/live/",
            f"/plants/{other.pk}/energy.csv",
            f"/plants/{other.pk}/readings.csv",
        ):
            assert client.get(url).status_code == 404, url
