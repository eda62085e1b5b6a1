"""A plant's status from its devices: the rule, written once, and the stored copy every list reads.

The rule: no datalogger, or no inverter identified while no logger is down → incomplete; no device
down → online; every device down → offline; otherwise partially offline. An asleep inverter is not
down; a replaced or rejected inverter is not a device (devices.models.counted_inverters).
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import Case, Count, F, Q, Value, When

from devices.models import DOWN_STATUSES, counted_inverters
from plants.models import STATUS_FIELDS, PlantStatus

# Stored field (plants.models.STATUS_FIELDS) → the annotation of plants_with_computed_status it copies.
STORED_STATUS = {field: f"computed_{field.removeprefix('n_')}" for field in STATUS_FIELDS}


def plants_with_computed_status(plants):
    """`plants` annotated with the status and counts computed from the devices and grants
    (`computed_*`). Pages read the stored copy (`Plant.status` and counts), which
    `plant_status_refresh` keeps equal."""
    active = Q(dataloggers__archived_at__isnull=True)
    counted = active & counted_inverters("dataloggers__inverters__")
    return (
        plants.annotate(
            computed_loggers=Count("dataloggers", filter=active, distinct=True),
            computed_loggers_seen=Count(
                "dataloggers", filter=active & Q(dataloggers__last_seen_at__isnull=False), distinct=True
            ),
            computed_loggers_down=Count(
                "dataloggers", filter=active & Q(dataloggers__status__in=DOWN_STATUSES), distinct=True
            ),
            computed_inverters=Count("dataloggers__inverters", filter=counted, distinct=True),
            computed_inverters_down=Count(
                "dataloggers__inverters",
                filter=counted & Q(dataloggers__inverters__status__in=DOWN_STATUSES),
                distinct=True,
            ),
            computed_grants=Count("grants", distinct=True),
        )
        .annotate(
            computed_devices=F("computed_loggers") + F("computed_inverters"),
            computed_down=F("computed_loggers_down") + F("computed_inverters_down"),
        )
        .annotate(
            computed_status=Case(
                # No logger (so no inverter, none down), or no inverter identified yet: online only
                # once an inverter answered, since a stick asleep at night (`05 00`) with no inverter
                # ever identified has shown nothing of the plant yet.
                When(computed_inverters=0, computed_loggers_down=0, then=Value(PlantStatus.INCOMPLETE)),
                When(computed_down=0, then=Value(PlantStatus.ONLINE)),
                When(computed_down=F("computed_devices"), then=Value(PlantStatus.OFFLINE)),
                default=Value(PlantStatus.PARTIALLY_OFFLINE),
                output_field=models.CharField(),
            )
        )
    )


def plant_status_refresh(plants):
    """Store these plants' computed status and counts: one UPDATE, which rewrites only the rows
    whose values changed. Run on every plants.signals.plants_changed (each poll batch, each service
    that changes loggers, inverters or grants). Returns how many plants changed."""
    computed = plants_with_computed_status(plants.order_by()).values("id", *STORED_STATUS.values())
    try:
        sql, params = computed.query.sql_with_params()
    except EmptyResultSet:  # no plant at all (e.g. pk__in=[]): nothing to store
        return 0
    table = plants.model._meta.db_table
    sets = ", ".join(f"{field} = v.{name}" for field, name in STORED_STATUS.items())
    changed = " OR ".join(f"p.{field} IS DISTINCT FROM v.{name}" for field, name in STORED_STATUS.items())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS p SET {sets} FROM ({sql}) AS v WHERE p.id = v.id AND ({changed})", params
        )
        return cursor.rowcount
