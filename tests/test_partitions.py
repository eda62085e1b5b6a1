"""The history's monthly partitions: created ahead, filled, detached, while the current month keeps
taking readings from other connections (the polls), none of them waiting for a lock; and months beyond
the retention rolled up by the hour."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from devices.models import Inverter, Reading, ReadingHour
from devices.partitions import (
    add_months,
    month_of,
    partition_month,
    partition_name,
    reading_history_expire,
    reading_partition_detach,
    reading_partitions,
    reading_partitions_compact,
    reading_partitions_ensure,
)
from devices.polling import poll_loggers

from .conftest import api_for, attach_logger, login

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


def now_between_slots():
    """Now, off the 5-minute grid: never the slot the fixture's poll just stored."""
    return timezone.now().replace(microsecond=0) + timedelta(seconds=1)


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
        insert_reading(poll, inverter, now_between_slots())
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
    now = now_between_slots()
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


def test_a_month_beyond_the_retention_is_rolled_up_by_the_hour_and_still_charted(inverter, installer, plant):
    oldest = partition_month(reading_partitions()[0])
    first = oldest + timedelta(days=9)
    with connection.cursor() as cursor:  # 1,000 W and 3,000 W in turn; a fault in one reading a day
        cursor.execute(
            "INSERT INTO devices_reading (inverter_id, slot, pv_power, pv_energy_today, fault_bits) "
            "SELECT %s, s, CASE WHEN extract(minute FROM s)::int %% 10 = 0 THEN 1000 ELSE 3000 END, "
            "extract(minute FROM s)::int * 2, CASE WHEN extract(hour FROM s) = 12 "
            "AND extract(minute FROM s) = 5 THEN 4 ELSE 0 END "
            "FROM generate_series(%s::timestamptz, %s::timestamptz, '5 minutes') s",
            [inverter.pk, first, first + timedelta(days=3) - timedelta(minutes=5)],
        )
    a_year_later = add_months(oldest, settings.READINGS_RETENTION_MONTHS + 1)

    assert reading_history_expire(now=a_year_later) == [partition_name(oldest)]

    assert reading_history_expire(now=a_year_later) == []
    assert partition_name(oldest) not in reading_partitions()
    assert not Reading.objects.filter(slot__lt=add_months(oldest, 1)).exists()
    hours = ReadingHour.objects.filter(inverter=inverter).order_by("hour")
    assert hours.count() == 3 * 24 and {h.slots for h in hours} == {12}
    noon = hours.get(hour=first.replace(hour=12))
    assert (noon.pv_power, noon.pv_energy_today, noon.fault_bits) == (2000, Decimal("11.0"), 4)
    day = (first + timedelta(days=1)).date()  # a whole local day inside the three
    curves = login(installer).get(f"/api/v1/plants/{plant.pk}/power/?date={day}").json()
    assert curves["hourly"] is True
    assert len(curves["slots"]) == 24 and curves["pv_power"] == [2000.0] * 24


def test_an_ended_month_has_its_key_index_rebuilt_full_once(inverter, plant):
    """Polls write slot after slot for every inverter, which leaves the (inverter, bucket) index's pages
    partly empty; once the month has ended, its index is rebuilt and its readings still charted."""
    month = month_of(timezone.now() - timedelta(days=100))
    name = partition_name(month)
    others = [
        Inverter.objects.create(datalogger=inverter.datalogger, serial_number=f"AU-C{i}") for i in range(40)
    ]
    ids = [inverter.pk, *(other.pk for other in others)]
    with connection.cursor() as cursor:
        cursor.execute(  # as polls write them: each slot for every inverter in turn
            "INSERT INTO devices_reading (inverter_id, slot, pv_power, pv_energy_today) "
            "SELECT i, s, 2500, 12 FROM generate_series(%s::timestamptz, %s::timestamptz, '5 minutes') s, "
            "unnest(%s::bigint[]) i ORDER BY s, i",
            [month, month + timedelta(days=6), ids],
        )

    def index_size():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_relation_size(h.inhrelid) FROM pg_inherits h "
                "JOIN pg_index i ON i.indexrelid = h.inhrelid "
                "WHERE h.inhparent = 'reading_inverter_bucket'::regclass AND i.indrelid = %s::regclass",
                [name],
            )
            return cursor.fetchone()[0]

    written = index_size()
    compacted = reading_partitions_compact()
    assert name in compacted and partition_name(month_of(timezone.now())) not in compacted
    assert index_size() < 0.85 * written
    assert reading_partitions_compact() == []  # done once
    day = month + timedelta(days=2)
    assert Reading.objects.filter(inverter=inverter).during(day, day + timedelta(days=1)).count() == 288


def test_a_range_of_history_holds_every_slot_in_it_and_no_other_across_buckets_and_months(
    inverter, installer
):
    """Ranges are read through the (inverter, 6-hour bucket) index: bounds off the buckets' edges and
    a range across two months give exactly the slots between them, and the API pages them newest
    first (one row per slot: the history has no unique index of its own)."""
    month = add_months(month_of(timezone.now()), 1)
    reading_partitions_ensure(first=month - timedelta(days=1), last=month)
    insert_slots(inverter, month - timedelta(days=1), month + timedelta(days=1))
    start, end = month - timedelta(hours=7, minutes=35), month + timedelta(hours=13, minutes=5)
    expected = [start + timedelta(minutes=5 * i) for i in range(int((end - start) / timedelta(minutes=5)))]

    rows = Reading.objects.filter(inverter=inverter).during(start, end).order_by("slot")
    assert list(rows.values_list("slot", flat=True)) == expected
    assert Reading.objects.filter(inverter=inverter).during(start=end).count() == 12 * 24 - 12 * 13 - 1
    page = api_for(installer).get(
        f"/api/v1/inverters/{inverter.pk}/readings/", {"since": start.isoformat(), "until": end.isoformat()}
    )
    assert page.json()["count"] == len(expected)
    slots = [datetime.fromisoformat(row["slot"]) for row in page.json()["results"]]
    assert slots == expected[::-1][:50]


def test_every_history_range_is_read_through_the_inverter_bucket_index(inverter):
    """Queries must compute the bucket exactly as migration 0011's index does, or PostgreSQL reads
    every row of the inverter in the month and filters them (sequential scans off: only the index
    can serve, and its condition must hold the bucket)."""
    month = month_of(timezone.now())
    ranged = Reading.objects.filter(inverter=inverter).during(month, month + timedelta(hours=13))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in (ranged, ranged.newest_first()):
            conditions = [line for line in query.explain().splitlines() if "Index Cond:" in line]
            assert conditions and all("date_bin(" in line for line in conditions), conditions


def test_the_first_local_day_of_the_oldest_partition_draws_its_curve(inverter, installer, plant):
    """The oldest partition starts at midnight UTC: in Paris its first local day began an hour or
    two earlier, before the 5-minute history. It is drawn from the 5-minute readings it has."""
    oldest = partition_month(reading_partitions()[0])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO devices_reading (inverter_id, slot, pv_power) "
            "SELECT %s, s, 1500 FROM generate_series(%s::timestamptz, %s::timestamptz, '5 minutes') s",
            [inverter.pk, oldest, oldest + timedelta(hours=20)],
        )
    curves = login(installer).get(f"/api/v1/plants/{plant.pk}/power/?date={oldest.date()}").json()
    assert curves["hourly"] is False and curves["pv_power"].count(1500.0) == 20 * 12 + 1
