"""The history's columns hold the inverter's own integers (its registers' resolution), read back exact."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from devices.models import Reading
from devices.registermap import HISTORY_FIELDS

from .factories import InverterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def inverter(plant):
    return InverterFactory(datalogger__plant=plant)


def stored(inverter, slot):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pv_energy_total, battery_soc, pv_energy_today, fault_bits, pg_column_size(r.*) "
            "FROM devices_reading r WHERE inverter_id = %s AND slot = %s",
            [inverter.pk, slot],
        )
        return cursor.fetchone()


def test_history_columns_are_the_register_maps_history_values():
    columns = [f.name for f in Reading._meta.concrete_fields if f.name not in ("inverter", "slot")]
    assert sorted(columns) == sorted(HISTORY_FIELDS)


def test_tenths_are_stored_as_the_integers_the_inverter_sent_and_read_back_exact(inverter):
    slot = timezone.now().replace(second=0, microsecond=0)
    Reading.objects.create(
        inverter=inverter,
        slot=slot,
        pv_energy_total=Decimal("1234567.8"),
        battery_soc=Decimal("55.3"),
        pv_energy_today=Decimal("71.9"),
        fault_bits=0x8000_0001,  # bit 31 (the sign bit of the column) and bit 0
        warning_bits=0,
    )

    assert stored(inverter, slot)[:4] == (12345678, 553, 719, -(2**31) + 1)
    reading = Reading.objects.get(inverter=inverter, slot=slot)
    assert reading.pv_energy_total == Decimal("1234567.8")
    assert reading.battery_soc == Decimal("55.3")
    assert reading.fault_bits == 0x8000_0001
    assert Reading.objects.filter(pv_energy_today__gt=Decimal("71.8")).count() == 1
    assert Reading.objects.filter(pv_energy_today__gt=Decimal("71.9")).count() == 0
    assert Reading.objects.aggregate(s=Sum("pv_energy_today"))["s"] == Decimal("71.9")


def test_a_full_reading_takes_about_a_hundred_bytes(inverter):
    slot = timezone.now().replace(second=0, microsecond=0)
    Reading.objects.create(inverter=inverter, slot=slot, **{key: 1 for key in HISTORY_FIELDS})

    assert stored(inverter, slot)[4] <= 104  # 24-byte header, 76 bytes of values (numerics: 168)
