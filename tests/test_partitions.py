"""The history's monthly partitions: created ahead, filled, detached, while the current month keeps
taking readings from other connections (the polls), none of them waiting for a lock."""

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from devices.models import Reading
from devices.partitions import (
    month_of,
    partition_name,
    reading_partition_detach,
    reading_partitions,
    reading_partitions_ensure,
)
from devices.polling import poll_loggers

from .conftest import attach_logger

pytestmark = pytest.mark.django_db(transaction=True)  # a concurrent detach runs outside transactions


def other_connection():
    """A second client of the test database, as a polling worker would be, that gives up after 2 s
    of waiting for a lock rather than hang the test."""
    db = connection.settings_dict
    conn = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        host=db["HOST"],
        port=db["PORT"],
        password=db["PASSWORD"] or None,
        autocommit=True,
    )
    conn.execute("SET lock_timeout = '2s'")
    return conn


@pytest.fixture
def portal_lock_timeout():
    """The portal's own connection gives up after 2 s of waiting for a lock, too."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '2s'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


def insert_reading(conn, inverter, slot):
    conn.execute(
        "INSERT INTO devices_reading (inverter_id, slot, pv_power, battery_soc) VALUES (%s, %s, 1000, 500)",
        [inverter.pk, slot],
    )


def insert_slots(inverter, first, last):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO devices_reading (inverter_id, slot, pv_power, pv_energy_today) "
            "SELECT %s, s, 2500, 12 FROM generate_series(%s::timestamptz, %s::timestamptz, '5 minutes') s",
            [inverter.pk, first, last - timedelta(minutes=5)],
        )


def month_rows(name):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{name}"')
        return cursor.fetchone()[0]


@pytest.fixture
def inverter(plant, v5_device, simulator):
    logger = attach_logger(plant, v5_device, simulator)
    poll_loggers([logger.id], force_info=True)
    return logger.inverters.get()


def test_a_year_is_stored_in_partitions_created_ahead_while_a_poll_writes_the_current_month(
    inverter, portal_lock_timeout
):
    year = timezone.now().year + 3  # beyond what the test database was given
    first, last = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    poll = other_connection()
    with poll.transaction():  # a poll's insert into the current month, not yet committed
        insert_reading(poll, inverter, timezone.now().replace(second=0, microsecond=0))
        attached = reading_partitions_ensure(first=first, last=datetime(year, 12, 1, tzinfo=UTC))
    poll.close()

    assert attached == [partition_name(datetime(year, month, 1, tzinfo=UTC)) for month in range(1, 13)]
    assert reading_partitions_ensure(first=first, last=datetime(year, 12, 1, tzinfo=UTC)) == []
    insert_slots(inverter, first, last)
    assert Reading.objects.filter(inverter=inverter, slot__gte=first, slot__lt=last).count() == 365 * 288
    assert month_rows(partition_name(datetime(year, 2, 1, tzinfo=UTC))) == 28 * 288
    assert month_rows(partition_name(datetime(year, 12, 1, tzinfo=UTC))) == 31 * 288


def test_an_old_month_is_detached_while_polls_keep_writing_the_current_one(inverter):
    old = month_of(timezone.now() - timedelta(days=700))
    insert_slots(inverter, old, old + timedelta(days=2))
    now = timezone.now().replace(second=0, microsecond=0)
    reader = other_connection()  # a long report that was reading the history before the detach
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM devices_reading")
    detached = []
    detach = threading.Thread(target=lambda: detached.append(reading_partition_detach(month=old)))
    detach.start()
    try:
        detach.join(timeout=1)
        assert detach.is_alive()  # the concurrent detach waits for the report, without blocking writers
        poll = other_connection()
        with poll.transaction():
            insert_reading(poll, inverter, now)  # would fail after 2 s if the current month were locked
        poll.close()
    finally:
        reader.close()
        detach.join(timeout=30)

    name = partition_name(old)
    assert detached == [f"{name}_detached"]
    assert name not in reading_partitions()
    assert not Reading.objects.filter(slot__gte=old, slot__lt=old + timedelta(days=2)).exists()
    assert Reading.objects.filter(inverter=inverter, slot=now).exists()
    try:
        assert month_rows(f"{name}_detached") == 2 * 288  # kept, to archive before it is dropped
    finally:
        connection.cursor().execute(f'DROP TABLE "{name}_detached"')


def test_a_poll_in_a_month_without_partition_creates_it_and_stores_its_reading(inverter):
    later = datetime(timezone.now().year + 6, 3, 15, 12, tzinfo=UTC)
    assert partition_name(month_of(later)) not in reading_partitions()

    poll_loggers([inverter.datalogger_id], cycle_at=later)

    assert partition_name(month_of(later)) in reading_partitions()
    assert Reading.objects.filter(inverter=inverter, slot=later).exists()
