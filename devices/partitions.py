"""Monthly partitions of the history (`devices_reading`, partitioned by range of `slot`, UTC months).

A month's partition is created ahead as a plain table and then attached: ATTACH takes only a SHARE
UPDATE EXCLUSIVE lock on the parent, so polls keep inserting into the current month meanwhile (CREATE
TABLE … PARTITION OF would lock the whole history). An old month is detached CONCURRENTLY, for the
same reason, and kept as a plain table (`…_detached`) to archive (pg_dump -t) and drop. There is no
default partition: PostgreSQL refuses a concurrent detach beside one; instead the beat keeps
MONTHS_AHEAD months ready and the poll makes sure of its own slot's month before it inserts.
"""

from datetime import UTC, datetime

from django.db import connection, transaction

from .models import Reading

MONTHS_AHEAD = 3
PARENT = Reading._meta.db_table
INVERTER_FK = "devices_reading_inverter_id_fk"  # named by migration 0008
# Months this process has seen attached (committed): the poll asks the catalog once per month.
_attached = set()


def month_of(moment):
    """The first instant of `moment`'s UTC month."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(month):
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


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


def reading_partitions_ensure(*, first=None, last=None, now=None):
    """Attach the monthly partitions from `first`'s month to `last`'s (by default: this month to
    MONTHS_AHEAD months ahead) that are missing; returns the names attached. Safe to run twice, and
    from two workers at once (an advisory lock serialises them)."""
    now = now or datetime.now(UTC)
    month = month_of(first or now)
    last = month_of(last or _months_later(now, MONTHS_AHEAD))
    attached = []
    while month <= last:
        if _partition_attach(month):
            attached.append(partition_name(month))
        month = next_month(month)
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
    name = partition_name(month_of(month))
    if name not in reading_partitions():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{PARENT}" DETACH PARTITION "{name}" CONCURRENTLY')
        # Renamed, so that a late reading of that month gets a new, empty partition; an archive does
        # not hold the inverters it mentions (they may be deleted).
        cursor.execute(f'ALTER TABLE "{name}" RENAME TO "{name}_detached"')
        cursor.execute(f'ALTER TABLE "{name}_detached" DROP CONSTRAINT "{INVERTER_FK}"')
    _attached.discard(month_of(month))
    return f"{name}_detached"


def _partition_attach(month):
    name = partition_name(month)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [PARENT])
        cursor.execute(
            "SELECT 1 FROM pg_inherits WHERE inhparent = %s::regclass AND inhrelid = to_regclass(%s)",
            [PARENT, name],
        )
        if cursor.fetchone():
            return False
        start, end = month.isoformat(), next_month(month).isoformat()
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


def _months_later(moment, months):
    month = month_of(moment)
    for _ in range(months):
        month = next_month(month)
    return month
