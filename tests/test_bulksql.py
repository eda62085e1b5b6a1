"""The poll's set-based writes (devices.bulksql): one statement for many rows, values as Django would
store them, and a condition that decides row by row."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devices.bulksql import insert_rows, update_rows
from devices.models import Inverter, InverterLive, Reading

from .factories import InverterFactory

SLOT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def inverters(plant):
    return InverterFactory.create_batch(3, datalogger__plant=plant)


def test_update_rows_writes_every_row_in_one_statement_and_returns_their_ids(inverters):
    for n, inverter in enumerate(inverters):
        inverter.status, inverter.rated_power_w = "online", 5000 + n
    with CaptureQueriesContext(connection) as queries:
        updated = update_rows(Inverter, inverters, ["status", "rated_power_w"])
    assert updated == {inv.pk for inv in inverters} and len(queries) == 1
    rows = Inverter.objects.filter(pk__in=updated).order_by("pk").values_list("status", "rated_power_w")
    assert list(rows) == [("online", 5000), ("online", 5001), ("online", 5002)]


def test_update_rows_skips_the_rows_that_fail_the_condition(inverters):
    Inverter.objects.filter(pk=inverters[0].pk).update(history_slot=SLOT)
    for inverter in inverters:
        inverter.history_slot = SLOT
    claimed = update_rows(
        Inverter,
        inverters,
        ["history_slot"],
        condition="t.history_slot IS NULL OR t.history_slot < v.history_slot",
    )
    assert claimed == {inverters[1].pk, inverters[2].pk}


def test_nothing_to_write_is_no_statement(inverters):
    with CaptureQueriesContext(connection) as queries:
        assert update_rows(Inverter, [], ["status"]) == set()
        insert_rows(Reading, [], ["inverter", "slot"])
    assert len(queries) == 0


def test_insert_rows_stores_scaled_values_and_high_bits_as_the_fields_read_them(inverters):
    """12.3 kWh in a tenth-of-kWh column and a fault word with bit 31 up come back as they went in."""
    row = Reading(inverter=inverters[0], slot=SLOT, pv_energy_today=Decimal("12.3"), fault_bits=0x80000001)
    insert_rows(Reading, [row], ["inverter", "slot", "pv_energy_today", "fault_bits"])
    stored = Reading.objects.get(inverter=inverters[0])
    assert stored.pv_energy_today == Decimal("12.3") and stored.fault_bits == 0x80000001


def test_insert_rows_applies_its_conflict_clause(inverters):
    first = InverterLive(inverter=inverters[0], values={"pv_power": 1}, at=SLOT)
    insert_rows(InverterLive, [first], ["inverter", "values", "at"])
    again = InverterLive(inverter=inverters[0], values={"pv_power": 2}, at=SLOT)
    on_conflict = '(inverter_id) DO UPDATE SET "values" = EXCLUDED."values", at = EXCLUDED.at'
    insert_rows(InverterLive, [again], ["inverter", "values", "at"], on_conflict=on_conflict)
    assert InverterLive.objects.get(inverter=inverters[0]).values == {"pv_power": 2}
