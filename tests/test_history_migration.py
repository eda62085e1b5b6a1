"""Migrations on a database that already holds data, each run in a scratch database of its own:
devices 0008 copies history into monthly partitions with the register map's integers, nothing lost
or rounded; plants 0007 computes the stored status of existing plants."""

import importlib
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import connection

MIGRATION = importlib.import_module("devices.migrations.0008_partitioned_history")
# devices_reading as migrations 0001-0007 left it (numerics, bigint bits).
BEFORE = """
CREATE TABLE devices_inverter (id bigint PRIMARY KEY);
CREATE TABLE devices_reading (
    inverter_id bigint NOT NULL REFERENCES devices_inverter (id), slot timestamptz NOT NULL,
    pv_power integer, load_power integer, grid_power integer, battery_power integer,
    battery_soc numeric(4, 1), pv_energy_total numeric(12, 1), load_energy_total numeric(12, 1),
    grid_import_total numeric(12, 1), grid_export_total numeric(12, 1), battery_charge_total integer,
    battery_discharge_total integer, pv_energy_today numeric(4, 1), grid_import_today numeric(4, 1),
    grid_export_today numeric(4, 1), load_energy_today numeric(4, 1), battery_discharge_today numeric(4, 1),
    battery_charge_today numeric(4, 1), warning_bits bigint, fault_bits bigint,
    CONSTRAINT devices_reading_pkey PRIMARY KEY (inverter_id, slot)
);
CREATE INDEX reading_slot_brin ON devices_reading USING brin (slot);
INSERT INTO devices_inverter VALUES (1);
INSERT INTO devices_reading VALUES
    (1, '2025-03-31 23:55+00', 4200, 900, -1500, -700, 55.3, 1234567.8, 2345.6, 1234.5, 5432.1, 812, 790,
     31.4, 0.2, 12.9, 9.9, 3.1, 4.2, 0, 2147483649),
    (1, '2025-04-01 00:00+00', 0, 400, 400, 0, 20.0, 1234567.9, 2345.7, 1234.6, 5432.1, 812, 790,
     0.0, 0.1, 0.0, 0.1, 0.0, 0.0, 65536, 0);
"""


@pytest.fixture
def scratch():
    """An empty database beside the test one, dropped afterwards."""
    db = connection.settings_dict
    params = {"user": db["USER"], "host": db["HOST"], "port": db["PORT"], "password": db["PASSWORD"] or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute("DROP DATABASE IF EXISTS aura_migration_check")
        admin.execute("CREATE DATABASE aura_migration_check")
    try:
        with psycopg.connect(dbname="aura_migration_check", autocommit=True, **params) as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            yield conn
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute("DROP DATABASE aura_migration_check")


def test_existing_history_is_copied_into_monthly_partitions_as_the_inverters_integers(scratch):
    scratch.execute(BEFORE)

    scratch.execute(MIGRATION.PARTITIONED)

    partitions = [
        name
        for (name,) in scratch.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'devices_reading'::regclass ORDER BY 1"
        )
    ]
    assert partitions[:2] == ["devices_reading_p202503", "devices_reading_p202504"]
    now = datetime.now(UTC)
    assert (
        partitions[-1] == f"devices_reading_p{now.year + (now.month + 1) // 12}{(now.month + 1) % 12 + 1:02d}"
    )
    rows = scratch.execute(
        "SELECT tableoid::regclass::text, pv_power, battery_soc, pv_energy_total, pv_energy_today, "
        "battery_charge_total, warning_bits, fault_bits FROM devices_reading ORDER BY slot"
    ).fetchall()
    assert rows == [
        ("devices_reading_p202503", 4200, 553, 12345678, 314, 812, 0, -(2**31) + 1),
        ("devices_reading_p202504", 0, 200, 12345679, 0, 812, 65536, 0),
    ]
    assert scratch.execute("SELECT to_regclass('devices_reading_old')").fetchone() == (None,)


COMPACTED = importlib.import_module("devices.migrations.0011_compact_history")


def test_each_month_is_copied_into_narrow_rows_under_the_inverter_bucket_index(scratch):
    scratch.execute(BEFORE)
    scratch.execute(MIGRATION.PARTITIONED)
    before = scratch.execute("SELECT * FROM devices_reading ORDER BY slot").fetchall()
    partitions = (
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'devices_reading%' ORDER BY 1"
    )
    names = scratch.execute(partitions).fetchall()

    scratch.execute(COMPACTED.COMPACTED)

    assert scratch.execute(partitions).fetchall() == names  # the same months, nothing left of the old
    after = scratch.execute(
        f"SELECT inverter_id, {COMPACTED.NAMES.replace('inverter_id, ', '')} FROM devices_reading "
        "ORDER BY slot"
    ).fetchall()
    assert after == before  # read in 0008's column order: every value kept
    types = scratch.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'devices_reading_p202503'::regclass AND attnum BETWEEN 1 AND 3 ORDER BY attnum"
    ).fetchall()
    assert types == [
        ("slot", "timestamp with time zone"),
        ("inverter_id", "integer"),
        ("pv_power", "integer"),
    ]
    indexes = scratch.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'devices_reading_p202504' ORDER BY 1"
    ).fetchall()
    assert [definition for (definition,) in indexes] == [
        "CREATE INDEX devices_reading_p202504_inverter_id_date_bin_idx ON public.devices_reading_p202504 "
        "USING btree (inverter_id, date_bin('06:00:00'::interval, slot, "
        "'2000-01-01 00:00:00+00'::timestamp with time zone))",
        "CREATE INDEX devices_reading_p202504_slot_idx ON public.devices_reading_p202504 USING brin (slot)",
    ]
    # No unique key any more, and the inverter is still a foreign key.
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        scratch.execute("INSERT INTO devices_reading (slot, inverter_id) VALUES ('2025-04-02', 2)")


STATUS_MIGRATION = importlib.import_module("plants.migrations.0007_stored_status")
# The tables the stored status is computed from, as they stood before it (only the columns it reads).
BEFORE_STATUS = """
CREATE TABLE plants_plant (id bigint PRIMARY KEY, status varchar(20) DEFAULT 'incomplete',
    n_loggers int DEFAULT 0, n_loggers_seen int DEFAULT 0, n_devices int DEFAULT 0, n_down int DEFAULT 0,
    n_grants int DEFAULT 0);
CREATE TABLE devices_datalogger (id bigint PRIMARY KEY, plant_id bigint, status varchar(12),
    last_seen_at timestamptz, archived_at timestamptz);
CREATE TABLE devices_inverter (id bigint PRIMARY KEY, datalogger_id bigint, status varchar(12));
CREATE TABLE plants_plantgrant (id bigint PRIMARY KEY, plant_id bigint);
INSERT INTO plants_plant (id) VALUES (1), (2), (3), (4);
INSERT INTO devices_datalogger VALUES
    (10, 1, 'online', now(), NULL), (11, 1, 'online', now(), NULL), (12, 1, 'offline', NULL, now()),
    (20, 2, 'offline', now(), NULL), (30, 3, 'online', now(), NULL);
INSERT INTO devices_inverter VALUES (100, 10, 'online'), (101, 10, 'never_seen'), (102, 11, 'asleep'),
    (103, 12, 'online'), (200, 20, 'offline');
INSERT INTO plants_plantgrant VALUES (1, 1), (2, 1), (3, 4);
"""


def test_the_stored_status_of_existing_plants_is_computed_at_the_upgrade(scratch):
    """Two sticks (one removed), three inverters of which one never seen, two customers: partially
    offline; all down: offline; a stick with no inverter yet: incomplete; nothing at all: incomplete."""
    scratch.execute(BEFORE_STATUS)

    scratch.execute(STATUS_MIGRATION.STORE_STATUSES)

    rows = scratch.execute(
        "SELECT id, status, n_loggers, n_loggers_seen, n_devices, n_down, n_grants"
        " FROM plants_plant ORDER BY id"
    ).fetchall()
    assert rows == [
        (1, "partially_offline", 2, 2, 5, 1, 2),
        (2, "offline", 1, 1, 2, 2, 0),
        (3, "incomplete", 1, 1, 1, 0, 0),
        (4, "incomplete", 0, 0, 0, 0, 1),
    ]
