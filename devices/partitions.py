"""Monthly partitions of the history (`devices_reading`, partitioned by range of `slot`, UTC months).

A month's partition is created ahead as a plain table and then attached: ATTACH takes only a SHARE
UPDATE EXCLUSIVE lock on the parent, so polls keep inserting into the current month meanwhile (CREATE
TABLE … PARTITION OF would lock the whole history). An old month is detached CONCURRENTLY, for the
same reason, and kept as a plain table (`…_detached`) to archive (pg_dump -t) and drop. There is no
default partition: PostgreSQL refuses a concurrent detach beside one; instead the beat keeps
MONTHS_AHEAD months ready and the poll makes sure of its own slot's month before it inserts.

Months older than READINGS_RETENTION_MONTHS are rolled up by the hour (ReadingHour), then dropped;
a month that has ended has its (inverter, slot bucket) index rebuilt.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from .models import Reading, ReadingHour
from .registermap import BY_KEY, HISTORY_FIELDS, Kind

MONTHS_AHEAD = 3
PARENT = Reading._meta.db_table
INVERTER_FK = "devices_reading_inverter_id_fk"  # named by migrations 0008 and 0011
KEY_INDEX = "reading_inverter_bucket"
# Months this process has seen attached (committed): the poll asks the catalog once per month.
_attached = set()


def month_of(moment):
    """The first instant of `moment`'s UTC month."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(month, months):
    year, index = divmod(month.year * 12 + month.month - 1 + months, 12)
    return month.replace(year=year, month=index + 1)


def partition_name(month):
    return f"{PARENT}_p{month:%Y%m}"


def reading_partitions():
    """The attached partitions' names, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
            [PARENT],
        )
        return [name for (name,) in cursor.fetchall()]


def five_minute_history_start():
    """When the 5-minute history begins (its oldest partition); before it, ReadingHour rows."""
    names = reading_partitions()
    if not names:
        return None
    return partition_month(names[0])


def reading_partitions_ensure(*, first=None, last=None, now=None):
    """Attach the monthly partitions from `first`'s month to `last`'s (by default: this month to
    MONTHS_AHEAD months ahead) that are missing; returns the names attached. Safe to run twice, and
    from two workers at once (an advisory lock serialises them)."""
    now = now or datetime.now(UTC)
    month = month_of(first or now)
    last = month_of(last or add_months(month_of(now), MONTHS_AHEAD))
    attached = []
    while month <= last:
        if _partition_attach(month):
            attached.append(partition_name(month))
        month = add_months(month, 1)
    return attached


def reading_partition_ready(*, slot):
    """Make sure the partition holding `slot` exists before a poll inserts into it."""
    month = month_of(slot)
    if month in _attached:
        return
    _partition_attach(month)
    transaction.on_commit(lambda: _attached.add(month))


def reading_partition_detach(*, month):
    """Detach `month`'s partition without blocking the other months' reads and inserts; returns the
    detached table's name (`…_detached`), or None when there was none. Runs outside any transaction
    (PostgreSQL requires it) and waits for the queries already reading that month."""
    month = month_of(month)
    name = partition_name(month)
    if name not in reading_partitions():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{PARENT}" DETACH PARTITION "{name}" CONCURRENTLY')
        # Renamed, so that a late reading of that month gets a new, empty partition; an archive does
        # not hold the inverters it mentions (they may be deleted).
        cursor.execute(f'ALTER TABLE "{name}" RENAME TO "{name}_detached"')
        cursor.execute(f'ALTER TABLE "{name}_detached" DROP CONSTRAINT "{INVERTER_FK}"')
    _attached.discard(month)
    return f"{name}_detached"


def _partition_attach(month):
    name = partition_name(month)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [PARENT])
        if name in reading_partitions():
            return False
        start, end = month.isoformat(), add_months(month, 1).isoformat()
        cursor.execute(f'CREATE TABLE "{name}" (LIKE "{PARENT}" INCLUDING DEFAULTS)')
        # The check lets ATTACH skip its validation scan; it is redundant once attached.
        cursor.execute(
            f'ALTER TABLE "{name}" ADD CONSTRAINT "{name}_range" CHECK (slot >= %s AND slot < %s)',
            [start, end],
        )
        cursor.execute(
            f'ALTER TABLE "{PARENT}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)', [start, end]
        )
        cursor.execute(f'ALTER TABLE "{name}" DROP CONSTRAINT "{name}_range"')
    return True


def reading_history_expire(*, now=None):
    """The beat's daily work on old history: each month older than READINGS_RETENTION_MONTHS is
    rolled up by the hour, detached and dropped (backups keep it); returns the months' names. Safe
    to run twice, and to resume after a crash (the roll-up skips hours already there)."""
    oldest_kept = add_months(month_of(now or datetime.now(UTC)), -settings.READINGS_RETENTION_MONTHS)
    expired = []
    for name in reading_partitions():
        month = partition_month(name)
        if month >= oldest_kept:
            continue
        reading_hours_roll_up(month=month)
        detached = reading_partition_detach(month=month)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE "{detached}"')
        expired.append(name)
    return expired


def reading_partitions_compact(*, now=None):
    """The (inverter, slot bucket) index of every month that has ended (a day's grace for a late
    cycle) rebuilt: polls add each slot for every inverter in turn, so its pages split before their
    posting lists are full (11 bytes a row as written, 7 rebuilt), and a month that has ended takes
    no more rows. REINDEX CONCURRENTLY (outside any transaction) lets reports read it and polls write
    the current month meanwhile; it waits for the transactions already running. Returns the months'
    names; a month already compacted (its index's fillfactor set to 100) is skipped."""
    ended_before = month_of((now or datetime.now(UTC)) - timedelta(days=1))
    compacted = []
    for name in reading_partitions():
        if partition_month(name) >= ended_before:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, c.reloptions FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_inherits h ON h.inhrelid = i.indexrelid AND h.inhparent = %s::regclass "
                "WHERE i.indrelid = %s::regclass",
                [KEY_INDEX, name],
            )
            index, options = cursor.fetchone()
            if "fillfactor=100" in (options or []):
                continue
            cursor.execute(f"ALTER INDEX {index} SET (fillfactor = 100)")
            cursor.execute(f"REINDEX INDEX CONCURRENTLY {index}")
        compacted.append(name)
    return compacted


def reading_hours_roll_up(*, month):
    """`month`'s 5-minute readings rolled up into ReadingHour rows (hours already there are kept)."""
    columns = ", ".join(HISTORY_FIELDS)
    rolled_up = ", ".join(_rolled_up(key) for key in HISTORY_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO "{ReadingHour._meta.db_table}" (inverter_id, hour, slots, {columns})
            SELECT inverter_id, date_trunc('hour', slot), count(*), {rolled_up}
            FROM "{PARENT}" WHERE slot >= %s AND slot < %s
            GROUP BY inverter_id, date_trunc('hour', slot)
            ON CONFLICT (inverter_id, hour) DO NOTHING
            """,
            [month, add_months(month, 1)],
        )
        return cursor.rowcount


def _rolled_up(key):
    """How one history column sums up an hour: power and state of charge averaged, bits of any
    reading, energy counters as at the hour's last reading."""
    register = BY_KEY.get(key)
    if register is None or register.unit in ("W", "%"):  # derived values are powers
        return f"round(avg({key}))"
    if register.kind == Kind.BITS:
        return f"bit_or({key})"
    return f"(array_agg({key} ORDER BY slot DESC) FILTER (WHERE {key} IS NOT NULL))[1]"


def partition_month(name):
    return datetime.strptime(name.removeprefix(f"{PARENT}_p"), "%Y%m").replace(tzinfo=UTC)
