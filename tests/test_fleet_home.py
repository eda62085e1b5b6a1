"""The installer's fleet home: the guide's counters, power, capacity and energy, the watch list."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alarms.models import Alarm
from devices.models import Datalogger, DeviceStatus, Inverter, InverterLive
from energy.accounting import monthly_energy_update
from energy.models import DailyEnergy
from monitoring.fleet import fleet_figures_refresh
from monitoring.status import plant_status_refresh, plants_with_computed_status
from monitoring.tasks import refresh_fleet_figures
from plants.models import FleetFigures, Plant

from .conftest import login, make_plant, text
from .factories import open_alarm


def plant_in(company, status, name=None, *, pv_power=0, fault=False):
    """A plant whose devices make it `status` ("incomplete" has none)."""
    plant = make_plant(company, name=name or f"{status} plant")
    if status == "incomplete":
        return plant
    logger_status = DeviceStatus.OFFLINE if status == "offline" else DeviceStatus.ONLINE
    inverter_status = DeviceStatus.ONLINE if status == "online" else DeviceStatus.OFFLINE
    logger = Datalogger.objects.create(
        plant=plant, serial_number=str(2400000000 + plant.pk), host="127.0.0.1", status=logger_status,
        last_seen_at=timezone.now(),
    )  # fmt: skip
    inverter = Inverter.objects.create(
        datalogger=logger, serial_number=f"INV{plant.pk}", status=inverter_status
    )
    InverterLive.objects.create(inverter=inverter, values={"pv_power": pv_power}, at=timezone.now())
    if fault:
        Alarm.objects.create(plant=plant, datalogger=logger, inverter=inverter, code_id="F13",
                             started_at=timezone.now())  # fmt: skip
    plant_status_refresh(Plant.objects.filter(pk=plant.pk))  # as a poll does after changing statuses
    return plant


@pytest.fixture
def fleet(company, other_company):
    plants = {
        "online": plant_in(company, "online", pv_power=2500),
        "faulty": plant_in(company, "online", "faulty plant", pv_power=1200, fault=True),
        "partially_offline": plant_in(company, "partially_offline"),
        "offline": plant_in(company, "offline"),
        "incomplete": plant_in(company, "incomplete"),
    }
    plant_in(other_company, "offline", "someone else's", pv_power=9999)
    today = timezone.localdate()
    for plant, wh in ((plants["online"], 12300), (plants["faulty"], 4000)):
        DailyEnergy.objects.create(plant=plant, company=company, day=today, production_wh=wh)
    if today.day > 1:
        DailyEnergy.objects.create(plant=plants["online"], company=company, day=today.replace(day=1),
                                   production_wh=20000)  # fmt: skip
    DailyEnergy.objects.create(plant=plants["online"], company=company, day=today - timedelta(days=40),
                               production_wh=99000)  # fmt: skip
    for day in (today, today - timedelta(days=40)):
        monthly_energy_update(
            plant_ids=[p.pk for p in plants.values()], month=day.replace(day=1), now=timezone.now()
        )
    return plants


def test_the_counters_equal_the_plant_statuses_and_link_to_the_filtered_list(installer, fleet):
    page = text(login(installer).get(reverse("home")))
    statuses = plants_with_computed_status(Plant.objects.restrict(installer))
    for status in ("incomplete", "partially_offline", "offline"):
        expected = statuses.filter(computed_status=status).count()
        assert f'href="/plants/?status={status}"' in page
        listed = login(installer).get(f"/plants/?status={status}")
        assert listed.context["page"].paginator.count == expected == 1
    assert "<strong>5</strong>" in page  # plants of this company only


def test_power_capacity_and_production_are_the_fleets_own(installer, fleet):
    page = text(login(installer).get(reverse("home")))
    assert "3,70\u00a0kW" in page  # 2.5 + 1.2 kW of fresh values; the other company's not counted
    assert "30,0\u00a0kWc" in page  # 5 plants × 6 kWp
    assert "16,3\u00a0kWh" in page  # today
    month = 16300 + (20000 if timezone.localdate().day > 1 else 0)
    assert f"{month / 1000:.1f}".replace(".", ",") + "\u00a0kWh" in page


def test_stale_power_is_not_current_power(installer, fleet):
    InverterLive.objects.update(at=timezone.now() - timedelta(minutes=30))
    page = text(login(installer).get(reverse("home")))
    assert "0\u00a0W" in page


def test_the_beat_stores_each_companys_power_and_energy_and_the_home_reads_them(
    installer, stranger, fleet, company, other_company
):
    refresh_fleet_figures.delay()
    stored = FleetFigures.objects.get(company=company)
    assert (stored.pv_power_w, stored.production_today_wh) == (3700, 16300)
    assert FleetFigures.objects.get(company=other_company).pv_power_w == 9999
    InverterLive.objects.filter(inverter__datalogger__plant=fleet["online"]).update(values={"pv_power": 4000})
    refresh_fleet_figures.delay()  # the next minute's run
    page = login(installer).get(reverse("home"))
    assert "5,20\u00a0kW" in text(page)
    assert page.context["fleet"]["figures_at"] == FleetFigures.objects.get(company=company).computed_at
    assert re.search(r"mis à jour il y a \d+\u00a0s", text(page))  # how fresh "now" is
    assert login(stranger).get(reverse("home")).context["fleet"]["pv_power_w"] == 9999


def test_figures_left_by_a_stopped_beat_are_recomputed_by_the_page(installer, fleet, company):
    FleetFigures.objects.create(
        company=company, pv_power_w=1, day=timezone.localdate(), production_today_wh=1, production_month_wh=1,
        computed_at=timezone.now() - timedelta(minutes=10),
    )  # fmt: skip
    page = text(login(installer).get(reverse("home")))
    assert "3,70\u00a0kW" in page and "16,3\u00a0kWh" in page
    yesterday = timezone.localdate() - timedelta(days=1)
    FleetFigures.objects.filter(company=company).update(
        day=yesterday, computed_at=timezone.now(), production_today_wh=1
    )
    assert "16,3\u00a0kWh" in text(login(installer).get(reverse("home")))  # yesterday's is not today's


def test_the_watch_list_puts_the_worst_first(installer, fleet):
    watch = login(installer).get(reverse("home")).context["fleet"]["watch_list"]
    assert [p["name"] for p in watch] == ["offline plant", "faulty plant", "partially_offline plant",
                                          "incomplete plant"]  # fmt: skip
    assert watch[1]["active_faults"] == 1
    assert watch[3]["next_step"] == "datalogger"


def test_the_api_gives_the_same_summary(installer, fleet):
    summary = login(installer).get("/api/v1/fleet/").json()
    assert summary["status_counts"] == {"incomplete": 1, "online": 2, "partially_offline": 1, "offline": 1}
    assert summary["pv_power_w"] == 3700 and summary["production_today_wh"] == 16300


def test_a_customer_lands_on_their_plant_and_never_on_the_fleet(customer, granted_plant, company, installer):
    response = login(customer).get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == f"/plants/{granted_plant.pk}/"
    second = make_plant(company, name="Résidence secondaire")
    second.grants.create(customer=customer, granted_by=installer, accepted_at=timezone.now())
    assert login(customer).get(reverse("home"))["Location"] == "/plants/"
    summary = login(customer).get("/api/v1/fleet/").json()
    assert summary["plants"] == 2


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)  # a streamed export queries while it is read
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/plants/",
        "/plants/?sort=-today",
        "/api/v1/fleet/",
        "/api/v1/plants/",
        "/alarms/",
        "/alarms/export.csv",
    ],
)
def test_fleet_pages_send_as_many_queries_at_10_as_at_1000_plants(installer, company, url):
    client = login(installer)
    for i in range(10):
        plant_in(company, ["online", "offline", "incomplete"][i % 3], f"p{i}", fault=i % 4 == 0)
    fleet_figures_refresh()  # as the beat does every minute
    at_10 = _queries(client, url)
    Plant.objects.bulk_create(
        Plant(company=company, name=f"bulk {i}", address="-", postcode="1", city="X", pv_power_kwp=3,
              system_type="dc", battery_model="AURA 5KM-BG")
        for i in range(990)
    )  # fmt: skip
    inverter = Inverter.objects.first()
    Alarm.objects.bulk_create(
        Alarm(plant_id=inverter.datalogger.plant_id, datalogger_id=inverter.datalogger_id, inverter=inverter,
              code_id="W04", severity=3, started_at=timezone.now() - timedelta(hours=i + 1),
              cleared_at=timezone.now() - timedelta(hours=i), acknowledged_by=installer,
              acknowledged_at=timezone.now())
        for i in range(300)
    )  # fmt: skip
    fleet_figures_refresh()
    assert _queries(client, url) == at_10


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


@pytest.mark.django_db
def test_a_new_installer_with_no_plant_is_told_so_not_that_all_is_online(installer):
    page = text(login(installer).get(reverse("home")))
    assert "Aucune centrale pour l'instant." in page or "Aucune centrale pour l’instant." in page
    assert "Toutes les centrales sont en ligne" not in page


def test_capacity_is_in_kwc_in_french(installer, fleet):
    page = text(login(installer).get(reverse("home")))
    assert "kWc" in page and "kWp" not in page
