"""The plant list as a fleet table: each plant's power now, production today, yesterday's yield per
kWp, last contact and active alarms, sorted and filtered by the database."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from devices.models import InverterLive
from energy.models import DailyEnergy
from monitoring.fleet import plant_figures_refresh, specific_yield
from plants.models import Plant, PlantFigures, PlantGrant, SavedFilter

from .conftest import api_for, login, make_plant, make_plants, text
from .factories import InverterFactory, open_alarm


def plant_with(
    company, name, *, pv_power=None, today_wh=None, yesterday_wh=None, alarms=0, seen_minutes=5, kwp=6
):
    """A plant with one logger and inverter: its live PV power (None: nothing fresh), its day rows
    and its open alarms."""
    plant = make_plant(company, name=name, pv_power_kwp=kwp)
    inverter = InverterFactory(
        datalogger__plant=plant, datalogger__last_seen_at=timezone.now() - timedelta(minutes=seen_minutes)
    )
    if pv_power is not None:
        InverterLive.objects.create(inverter=inverter, values={"pv_power": pv_power}, at=timezone.now())
    today = timezone.localdate()
    for day, wh in ((today, today_wh), (today - timedelta(days=1), yesterday_wh)):
        if wh is not None:
            DailyEnergy.objects.create(plant=plant, company=company, day=day, production_wh=wh)
    for code in ("F13", "F07", "W04")[:alarms]:
        open_alarm(inverter.datalogger, code)
    return plant


@pytest.fixture
def fleet(company, other_company):
    plants = [
        plant_with(company, "Atelier", pv_power=2500, today_wh=12300, yesterday_wh=30000, alarms=1),
        plant_with(company, "Bergerie", pv_power=800, today_wh=20100, yesterday_wh=21000, seen_minutes=1),
        plant_with(
            company, "Chai", pv_power=None, today_wh=None, yesterday_wh=None, alarms=2, seen_minutes=300
        ),
        plant_with(company, "Dojo", pv_power=4100, today_wh=500, yesterday_wh=42000, kwp=10, seen_minutes=20),
    ]
    plant_with(
        other_company, "Écurie d'ailleurs", pv_power=9999, today_wh=99000, yesterday_wh=99000, alarms=3
    )
    plant_figures_refresh(plants=Plant.objects.all(), now=timezone.now())
    return plants


def names_in_order(client, **query):
    page = client.get(reverse("plants:list"), query).context["page"]
    return [plant.name for plant in page]


def row_of(body, name):
    return re.search(rf"<tr>\s*<td><a [^>]*>{re.escape(name)}</a>.*?</tr>", body, re.S).group(0)


def test_each_row_shows_the_plants_figures_in_french_units(installer, fleet):
    body = text(login(installer).get(reverse("plants:list")))
    atelier = row_of(body, "Atelier")
    assert "2,50\u00a0kW" in atelier and "12,3\u00a0kWh" in atelier and "5,00\u00a0kWh/kWc" in atelier
    assert "il y a 5\u00a0min" in atelier and "state=active&plant=" in atelier and ">1</a>" in atelier
    dojo = row_of(body, "Dojo")
    assert "4,10\u00a0kW" in dojo and "4,20\u00a0kWh/kWc" in dojo  # 42 kWh on 10 kWc


def test_a_plant_with_nothing_fresh_shows_dashes_not_zeros(installer, fleet):
    chai = row_of(text(login(installer).get(reverse("plants:list"))), "Chai")
    assert "Pas de valeur récente" in chai and "0,00\u00a0kW" not in chai and "0\u00a0W" not in chai
    assert "il y a 5\u00a0h" in chai and ">2</a>" in chai


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("", ["Atelier", "Bergerie", "Chai", "Dojo"]),
        ("-name", ["Dojo", "Chai", "Bergerie", "Atelier"]),
        ("-power", ["Dojo", "Atelier", "Bergerie", "Chai"]),
        ("power", ["Chai", "Bergerie", "Atelier", "Dojo"]),
        ("-today", ["Bergerie", "Atelier", "Dojo", "Chai"]),
        ("today", ["Chai", "Dojo", "Atelier", "Bergerie"]),
        ("-yield", ["Atelier", "Dojo", "Bergerie", "Chai"]),
        ("yield", ["Chai", "Bergerie", "Dojo", "Atelier"]),
        ("-seen", ["Bergerie", "Atelier", "Dojo", "Chai"]),
        ("seen", ["Chai", "Dojo", "Atelier", "Bergerie"]),
        ("-alarms", ["Chai", "Atelier", "Dojo", "Bergerie"]),
        ("alarms", ["Bergerie", "Dojo", "Atelier", "Chai"]),
    ],
)
def test_the_table_sorts_by_each_figure_either_way(installer, fleet, sort, expected):
    """A plant with no figure (Chai: nothing fresh, no day row) comes last highest first and first
    lowest first; ties (no alarm at Bergerie and Dojo) are broken by the plant's id, either way."""
    assert names_in_order(login(installer), sort=sort) == expected


def test_sorting_keeps_the_filters_and_the_headings_say_the_order(installer, fleet):
    Plant.objects.filter(name__in=["Atelier", "Dojo"]).update(tags=["SAV"])
    client = login(installer)
    response = client.get(reverse("plants:list"), {"tag": "SAV", "sort": "-power", "page": "1"})
    assert [p.name for p in response.context["page"]] == ["Dojo", "Atelier"]
    body = response.content.decode()
    power = re.search(r'<th class="num" aria-sort="descending"><a href="\?([^"]+)">Puissance actuelle', body)
    assert power and "sort=power" in power.group(1) and "tag=SAV" in power.group(1)
    assert "page=" not in power.group(1)
    today = re.search(r'<th class="num"><a href="\?([^"]+)">Aujourd', body).group(1)
    assert "sort=-today" in today and "tag=SAV" in today


def test_another_companys_plants_never_enter_a_sorted_list(installer, stranger, fleet):
    for sort in ("-power", "power", "-today", "-alarms", "seen"):
        assert "Écurie d'ailleurs" not in names_in_order(login(installer), sort=sort)
        assert names_in_order(login(stranger), sort=sort) == ["Écurie d'ailleurs"]


def test_a_customer_sees_their_plants_figures_but_no_alarm_column(customer, installer, fleet):
    PlantGrant.objects.create(
        plant=fleet[0], customer=customer, granted_by=installer, accepted_at=timezone.now()
    )
    response = login(customer).get(reverse("plants:list"), {"sort": "-today"})
    body = text(response)
    assert [p.name for p in response.context["page"]] == ["Atelier"]
    assert "2,50\u00a0kW" in body and "Alarmes actives" not in body


def test_a_new_owner_reads_no_figure_from_before_the_hand_over(customer, installer, fleet):
    """Given Atelier and Chai an hour ago: today's production mixes both owners' and yesterday was
    the previous owner's; Chai's logger was last heard before the hand-over. The power now is theirs."""
    for plant in (fleet[0], fleet[2]):
        PlantGrant.objects.create(
            plant=plant, customer=customer, granted_by=installer, accepted_at=timezone.now()
        )
    Plant.objects.filter(pk__in=[fleet[0].pk, fleet[2].pk]).update(
        customer_history_since=timezone.now() - timedelta(hours=1)
    )
    body = text(login(customer).get(reverse("plants:list")))
    atelier, chai = row_of(body, "Atelier"), row_of(body, "Chai")
    assert "2,50\u00a0kW" in atelier and "il y a 5\u00a0min" in atelier
    assert "kWh" not in atelier.replace("kWh/kWc", "") and "kWh/kWc" not in atelier  # no today, no yield
    assert "il y a" not in chai and "jamais" not in chai
    # Nor may an order tell them: sorted by the name whatever they ask.
    for sort in ("-today", "today", "-yield", "yield", "-seen", "seen"):
        assert names_in_order(login(customer), sort=sort) == ["Atelier", "Chai"], sort
    assert [
        p["name"] for p in api_for(customer).get("/api/v1/plants/", {"sort": "today"}).json()["results"]
    ] == [
        "Atelier",
        "Chai",
    ]


def test_the_previous_owner_with_shared_history_reads_every_figure(customer, installer, fleet):
    PlantGrant.objects.create(
        plant=fleet[0], customer=customer, granted_by=installer, accepted_at=timezone.now()
    )
    atelier = row_of(text(login(customer).get(reverse("plants:list"))), "Atelier")
    assert "12,3\u00a0kWh" in atelier and "5,00\u00a0kWh/kWc" in atelier


def test_a_plant_made_since_the_last_refresh_is_listed_in_every_order(installer, company, fleet):
    """Its figures' row is made with it by the database, even by a bulk insert, and says nothing yet."""
    make_plant(company, name="Érable")
    make_plants(company, ["Frêne", "Genêt"])
    for sort in ("-power", "power", "-today", "today", "-seen", "-alarms"):
        names = names_in_order(login(installer), sort=sort)
        assert {"Érable", "Frêne", "Genêt"} <= set(names) and len(names) == 7, sort
    body = text(login(installer).get(reverse("plants:list"), {"sort": "-today"}))
    assert "jamais" in row_of(body, "Frêne")


def test_a_plant_moved_to_another_company_is_sorted_with_its_new_fleet_at_once(
    installer, stranger, other_company, fleet
):
    Plant.objects.filter(name="Dojo").update(company=other_company)  # as the Django admin does
    assert "Dojo" in names_in_order(login(stranger), sort="-power")
    assert "Dojo" not in names_in_order(login(installer), sort="-power")


def test_a_bad_sort_is_a_form_error_on_the_page_and_a_400_in_the_api(installer, fleet):
    response = login(installer).get(reverse("plants:list"), {"sort": "drop table"})
    assert response.status_code == 200 and "choix valide" in text(response)
    assert list(response.context["page"]) == []
    response = api_for(installer).get("/api/v1/plants/", {"sort": "pv_power_w"})
    assert response.status_code == 400 and "sort" in response.json()


def test_the_api_sorts_as_the_page_does_with_the_fleet_counters_total(installer, fleet):
    body = api_for(installer).get("/api/v1/plants/", {"sort": "-today"}).json()
    assert [p["name"] for p in body["results"]] == ["Bergerie", "Atelier", "Dojo", "Chai"]
    assert body["count"] == 4


def test_a_kept_filter_keeps_its_order(installer, fleet):
    client = login(installer)
    client.post(
        reverse("plants:saved_filter_create"), {"name": "Les plus productives", "query": "sort=-today"}
    )
    saved = SavedFilter.objects.get(user=installer)
    assert saved.query == "sort=-today"
    assert names_in_order(client, **dict([saved.query.split("=")]))[0] == "Bergerie"


def test_figures_left_by_a_stopped_beat_are_recomputed_by_the_page(installer, fleet):
    PlantFigures.objects.update(computed_at=timezone.now() - timedelta(hours=2), today_wh=0)
    assert names_in_order(login(installer), sort="-today")[:2] == ["Bergerie", "Atelier"]
    assert "Chiffres calculés il y a 0\u00a0s" in text(login(installer).get(reverse("plants:list")))


def test_a_customer_is_told_how_old_the_figures_are_when_the_beat_has_stopped(customer, installer, fleet):
    PlantGrant.objects.create(
        plant=fleet[0], customer=customer, granted_by=installer, accepted_at=timezone.now()
    )
    PlantFigures.objects.update(computed_at=timezone.now() - timedelta(hours=2))
    assert "Chiffres calculés il y a 2\u00a0h" in text(login(customer).get(reverse("plants:list")))


def test_each_plant_counts_today_and_yesterday_in_its_own_time_zone(company):
    """At 12:00 UTC it is already tomorrow at Kiritimati (UTC+14): that plant's today is the next day."""
    now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    paris = make_plant(company, name="Paris")
    kiritimati = make_plant(company, name="Kiritimati", time_zone="Pacific/Kiritimati")
    for plant in (paris, kiritimati):
        for day, wh in ((9, 9000), (10, 10000), (11, 11000)):
            DailyEnergy.objects.create(
                plant=plant, company=company, day=now.date().replace(day=day), production_wh=wh
            )
    plant_figures_refresh(plants=Plant.objects.all(), now=now)
    figures = {f.plant.name: f for f in PlantFigures.objects.select_related("plant")}
    assert (figures["Paris"].today_wh, figures["Paris"].yield_yesterday) == (10000, Decimal("1.50"))
    assert (figures["Kiritimati"].today_wh, figures["Kiritimati"].yield_yesterday) == (11000, Decimal("1.67"))
    assert figures["Paris"].computed_at == now


def test_the_yield_needs_a_day_and_a_capacity_and_stays_in_its_column():
    assert specific_yield(None, Decimal(6)) is None and specific_yield(3000, Decimal(0)) is None
    assert specific_yield(30000, Decimal(6)) == Decimal("5.00")
    assert specific_yield(10**12, Decimal("0.01")) == Decimal("99999.99")


def test_a_plant_with_a_tiny_capacity_does_not_stop_the_refresh(company):
    plant_with(company, "Minuscule", today_wh=10**9, yesterday_wh=10**9, kwp=Decimal("0.01"))
    plant_figures_refresh(plants=Plant.objects.all(), now=timezone.now())
    assert PlantFigures.objects.get().yield_yesterday == Decimal("99999.99")


def test_the_sorted_list_reads_the_companys_index_range_not_every_plant(installer, company, other_company):
    """What keeps its cost the same at 100 plants and 10,000 (make bench-web: fleet_table_vs_small)."""
    make_plants(company, [f"Ferme {i}" for i in range(800)])
    make_plants(other_company, [f"Ailleurs {i}" for i in range(800)])
    plant_figures_refresh(plants=Plant.objects.all(), now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE plants_plant, plants_plantfigures")
    for sort, scan in (
        ("-today", "Index Scan using plant_figures_today_wh"),
        ("today", "Index Scan Backward using plant_figures_today_wh"),
    ):
        with CaptureQueriesContext(connection) as queries:
            login(installer).get(reverse("plants:list"), {"sort": sort})
        listed = next(q["sql"] for q in queries if "ORDER BY" in q["sql"] and "plantfigures" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {listed}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert scan in plan and "Sort" not in plan, plan
