"""The per-company counters the fleet pages read (`FleetCount`, kept by database triggers) equal a
count of the plants after every kind of write, including concurrent ones."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from plants.models import FleetCount, Plant, PlantStatus, fleet_counts
from plants.services import plant_archive, plant_create

from .conftest import make_plant
from .test_partitions import other_connection


def assert_fleet_counted(company_id):
    """The stored counters of `company_id` equal the counted plants (statuses and kWp)."""
    stored = FleetCount.objects.filter(company_id=company_id).first() or FleetCount()
    counted = dict.fromkeys(PlantStatus.values, 0)
    kwp = 0
    for plant in Plant.objects.filter(company_id=company_id, archived_at__isnull=True):
        counted[plant.status] += 1
        kwp += plant.pv_power_kwp
    assert (stored.counts(), stored.pv_power_kwp) == (counted, kwp)


def plant_fields(**extra):
    return {
        "name": "Maison", "address": "1 rue", "postcode": "69000", "city": "Lyon",
        "pv_power_kwp": Decimal("6"), "system_type": "dc", "battery_model": "AURA 10KM-BG", **extra,
    }  # fmt: skip


def test_creating_editing_archiving_and_deleting_plants_keep_the_counters(company, other_company, installer):
    created = plant_create(company=company, by=installer, **plant_fields())
    assert_fleet_counted(company.pk)
    make_plant(other_company, pv_power_kwp=Decimal("9.5"))
    created.pv_power_kwp = Decimal("7.25")
    created.save()
    assert_fleet_counted(company.pk)
    assert fleet_counts(installer) == (
        dict.fromkeys(PlantStatus.values, 0) | {"incomplete": 1},
        Decimal("7.25"),
    )

    Plant.objects.bulk_create([Plant(company=company, **plant_fields(name=f"P{i}")) for i in range(5)])
    Plant.objects.filter(company=company, name__in=["P1", "P2"]).update(status=PlantStatus.OFFLINE)
    Plant.objects.filter(name="P3").update(company=other_company)
    assert_fleet_counted(company.pk)
    assert_fleet_counted(other_company.pk)

    plant_archive(plant=created, by=installer)
    Plant.objects.filter(name="P4").delete()
    assert_fleet_counted(company.pk)
    counts, kwp = fleet_counts(installer)
    assert counts == {"incomplete": 1, "online": 0, "partially_offline": 0, "offline": 2} and kwp == 18


def test_an_update_that_changes_no_status_locks_no_counter(company, plant):
    """A poll rewrites plants whose counts change but not their status: nothing to add, no lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM plants_fleetcount WHERE company_id = %s", [company.pk])
        before = cursor.fetchall()
        Plant.objects.filter(pk=plant.pk).update(n_grants=3, city="Bron")
        cursor.execute("SELECT xmin::text FROM plants_fleetcount WHERE company_id = %s", [company.pk])
        assert cursor.fetchall() == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_status_changes_of_one_company_are_all_counted(company):
    """Two transactions move different plants of one company at once: the second waits for the
    company's counter row, then adds to the committed value (no lost update)."""
    plants = [make_plant(company, name=f"P{i}") for i in range(4)]
    started = threading.Barrier(2)

    def move(ids, status):
        with other_connection() as conn, conn.transaction():
            started.wait()
            conn.execute("UPDATE plants_plant SET status = %s WHERE id = ANY(%s)", [status, ids])
            conn.execute("SELECT pg_sleep(0.2)")  # both hold their transaction open

    threads = [
        threading.Thread(target=move, args=([plants[0].pk, plants[1].pk], PlantStatus.ONLINE)),
        threading.Thread(target=move, args=([plants[2].pk], PlantStatus.OFFLINE)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_fleet_counted(company.pk)
    counts = FleetCount.objects.get(company=company).counts()
    assert counts == {"incomplete": 1, "online": 2, "partially_offline": 0, "offline": 1}
