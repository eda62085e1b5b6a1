"""The fleet home's figures, for the plants a user may see: the guide's counters (chapter 4-1-c) plus
current power, installed capacity and energy, and the plants that need attention, worst first."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from alarms.models import Alarm, AlarmCode
from devices.models import InverterLive
from energy.models import DailyEnergy, MonthlyEnergy

from .models import Plant, PlantStatus, status_counts

# Worst first: a dead plant, then an active fault, then a partial outage, then unfinished commissioning.
WATCH_RANK = Case(
    When(status=PlantStatus.OFFLINE, then=Value(0)),
    When(has_fault=True, then=Value(1)),
    When(status=PlantStatus.PARTIALLY_OFFLINE, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def fleet_summary(user, *, watch_list=10, now=None):
    """Counters, power and energy of the user's plants. "Today" and "this month" are the user's
    local calendar (the portal's time zone); each plant's day is its own local day."""
    now = now or timezone.now()
    plants = Plant.objects.restrict(user, "view")
    counts = status_counts(plants)
    fresh = now - timedelta(seconds=2 * settings.POLL_INTERVAL_SECONDS)
    power = InverterLive.objects.filter(
        inverter__datalogger__plant__in=plants, inverter__datalogger__archived_at__isnull=True, at__gte=fresh
    ).aggregate(w=Sum(Cast(KT("values__pv_power"), IntegerField())))["w"]
    today = timezone.localdate(now)
    production_today = DailyEnergy.objects.restrict(user, "view").filter(day=today)
    production_month = MonthlyEnergy.objects.restrict(user, "view").filter(month=today.replace(day=1))
    summary = {
        "plants": sum(counts.values()),
        "status_counts": counts,
        "alarm_counts": Alarm.objects.restrict(user, "view").active_counts(),
        "pv_power_w": power or 0,
        "installed_kwp": plants.aggregate(kwp=Sum("pv_power_kwp"))["kwp"] or 0,
        "production_today_wh": production_today.aggregate(wh=Sum("production_wh"))["wh"] or 0,
        "production_month_wh": production_month.aggregate(wh=Sum("production_wh"))["wh"] or 0,
    }
    if watch_list:
        summary["watch_list"] = plants_needing_attention(plants, limit=watch_list)
    return summary


def plants_needing_attention(plants, *, limit):
    """Offline, faulty, partly offline or unfinished plants, worst first, then by name (the stored
    status, indexed with the company; an active fault found with EXISTS)."""
    faults = Alarm.objects.filter(cleared_at__isnull=True, code__kind=AlarmCode.Kind.FAULT)
    watched = list(
        plants.annotate(has_fault=Exists(faults.filter(plant=OuterRef("pk"))))
        .filter(~Q(status=PlantStatus.ONLINE) | Q(has_fault=True))
        .annotate(rank=WATCH_RANK)
        .order_by("rank", "name", "pk")[:limit]
    )
    n_faults = dict(
        faults.filter(plant__in=[p.pk for p in watched])
        .values("plant")
        .annotate(n=Count("pk"))
        .values_list("plant", "n")
    )
    return [
        {
            "id": plant.pk,
            "name": plant.name,
            "city": plant.city,
            "status": plant.status,
            "status_display": plant.get_status_display(),
            "active_faults": n_faults.get(plant.pk, 0),
            "next_step": plant.next_step,
        }
        for plant in watched
    ]
