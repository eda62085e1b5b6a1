"""The fleet home's figures, for the plants a user may see: the guide's counters (chapter 4-1-c) plus
current power, installed capacity and energy, and the plants that need attention, worst first."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, IntegerField, Max, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import Company
from alarms.models import Alarm, AlarmCode
from commissioning.checks import checklists_of
from devices.models import Datalogger, InverterLive, counted_inverters
from energy.models import DailyEnergy, MonthlyEnergy
from plants.models import FleetFigures, Plant, PlantFigures, PlantStatus, fleet_counts, sees_whole_company


def fleet_summary(user, *, watch_list=10, now=None):
    """Counters, power and energy of the user's plants. "Today" and "this month" are the user's
    local calendar (the portal's time zone); each plant's day is its own local day. An installer's
    come from the company's stored rows (`FleetCount`, `FleetFigures`): the same few rows whatever
    the fleet's size."""
    now = now or timezone.now()
    plants = Plant.objects.restrict(user, "view")
    counts, kwp = fleet_counts(user)
    if sees_whole_company(user):
        figures = fleet_figures_of(company_id=user.company_id, now=now)
    else:
        by_company = _figures_by_company(
            plants=plants,
            days=DailyEnergy.objects.restrict(user, "view"),
            months=MonthlyEnergy.objects.restrict(user, "view"),
            now=now,
        )
        figures = {name: sum(f[name] for f in by_company.values()) for name in FIGURES} | {"computed_at": now}
    summary = {
        "plants": sum(counts.values()),
        "status_counts": counts,
        "alarm_counts": Alarm.objects.restrict(user, "view").active_counts(),
        "installed_kwp": kwp,
        **{name: figures[name] for name in FIGURES},
        "figures_at": figures["computed_at"],  # when power and production were summed
    }
    if watch_list:
        summary["watch_list"] = plants_needing_attention(plants, limit=watch_list)
        summary["being_commissioned"] = plants_being_commissioned(plants, limit=COMMISSIONING_SHOWN)
    return summary


COMMISSIONING_SHOWN = 5  # their checklists are read together, in a few queries
COMMISSIONING_COUNT_CAP = 1000  # counted up to this (an index range), then shown as "1000+"


def plants_being_commissioned(plants, *, limit):
    """How many plants are not commissioned yet (up to the cap), and the oldest few with what each
    still misses; both read from the plant_being_commissioned index, whatever the fleet's size."""
    pending = plants.filter(commissioning_completed_at__isnull=True)
    oldest = list(pending.order_by("created_at", "pk")[:limit])
    checklists = checklists_of(oldest)
    count = pending.order_by()[: COMMISSIONING_COUNT_CAP + 1].count()
    return {
        "count": min(count, COMMISSIONING_COUNT_CAP),
        "more": count > COMMISSIONING_COUNT_CAP,
        "plants": [
            {"id": plant.pk, "name": plant.name, "missing": checklists[plant.pk].missing()}
            for plant in oldest
        ],
    }


FIGURES = ("pv_power_w", "production_today_wh", "production_month_wh")


def _figures_by_company(*, plants, days, months, now):
    """Solar power now (fresh live values only) and production today and this month of `plants`
    (`days` and `months`: their energy rows), by company: three GROUP BYs."""
    fresh = now - timedelta(seconds=2 * settings.POLL_INTERVAL_SECONDS)
    today = timezone.localdate(now)
    company = "inverter__datalogger__plant__company"
    power = (
        InverterLive.objects.filter(
            counted_inverters("inverter__"),
            inverter__datalogger__plant__in=plants,
            inverter__datalogger__archived_at__isnull=True,
            at__gte=fresh,
        )
        .values(company)
        .annotate(total=Sum(Cast(KT("values__pv_power"), IntegerField())))
        .values_list(company, "total")
    )
    production_today = days.filter(day=today).values("company").annotate(total=Sum("production_wh"))
    production_month = (
        months.filter(month=today.replace(day=1)).values("company").annotate(total=Sum("production_wh"))
    )
    figures = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for name, rows in (
        ("pv_power_w", power),
        ("production_today_wh", production_today.values_list("company", "total")),
        ("production_month_wh", production_month.values_list("company", "total")),
    ):
        for company_id, total in rows.order_by():
            figures[company_id][name] = total or 0
    return figures


def fleet_figures_refresh(*, now=None, company_ids=None):
    """Compute and store the figures of every company (the beat) or of `company_ids`, and those of
    each of their plants (the fleet table's); returns {company id: figures}. Safe to run twice or at
    once: each run writes what it computed."""
    now = now or timezone.now()
    companies = Company.objects.all() if company_ids is None else Company.objects.filter(pk__in=company_ids)
    plants = Plant.objects.filter(company__in=companies, archived_at__isnull=True)
    plant_figures_refresh(plants=plants, now=now)
    computed = _figures_by_company(
        plants=plants,
        days=DailyEnergy.objects.filter(plant__in=plants),
        months=MonthlyEnergy.objects.filter(plant__in=plants),
        now=now,
    )
    rows = [
        FleetFigures(company_id=pk, day=timezone.localdate(now), computed_at=now, **computed[pk])
        for pk in companies.values_list("pk", flat=True)
    ]
    FleetFigures.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["company"], update_fields=[*FIGURES, "day", "computed_at"]
    )
    return {row.company_id: {name: getattr(row, name) for name in (*FIGURES, "computed_at")} for row in rows}


def plant_figures_refresh(*, plants, now):
    """Compute and store the fleet table's figures of `plants` (PlantFigures): a few GROUP BYs over
    them and one upsert, whatever their number."""
    fresh = now - timedelta(seconds=2 * settings.POLL_INTERVAL_SECONDS)
    power = _by_plant(
        InverterLive.objects.filter(
            counted_inverters("inverter__"),
            inverter__datalogger__plant__in=plants,
            inverter__datalogger__archived_at__isnull=True,
            at__gte=fresh,
        ),
        Sum(Cast(KT("values__pv_power"), IntegerField())),
        plant="inverter__datalogger__plant",
    )
    seen = _by_plant(
        Datalogger.objects.filter(plant__in=plants, archived_at__isnull=True), Max("last_seen_at")
    )
    alarms = _by_plant(Alarm.objects.filter(plant__in=plants, cleared_at__isnull=True), Count("pk"))
    # Each plant's today and yesterday are its own time zone's.
    produced = {}
    for zone in plants.order_by().values_list("time_zone", flat=True).distinct():
        today = timezone.localdate(now, ZoneInfo(zone))
        days = DailyEnergy.objects.filter(
            plant__in=plants.filter(time_zone=zone), day__in=[today, today - timedelta(days=1)]
        )
        for plant_id, day, wh in days.values_list("plant", "day", "production_wh"):
            produced[plant_id, "today" if day == today else "yesterday"] = wh
    rows = [
        PlantFigures(
            plant_id=pk,
            company_id=company_id,
            pv_power_w=power.get(pk),
            today_wh=produced.get((pk, "today"), 0),
            yield_yesterday=specific_yield(produced.get((pk, "yesterday")), kwp),
            last_seen_at=seen.get(pk),
            active_alarms=alarms.get(pk, 0),
            computed_at=now,
        )
        for pk, company_id, kwp in plants.order_by("pk").values_list("pk", "company_id", "pv_power_kwp")
    ]
    PlantFigures.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["plant"],
        update_fields=[f.name for f in PlantFigures._meta.concrete_fields if not f.primary_key],
    )


def _by_plant(rows, aggregate, *, plant="plant"):
    """{plant id: `aggregate` of its `rows`}, in one GROUP BY."""
    return dict(rows.order_by().values(plant).annotate(value=aggregate).values_list(plant, "value"))


def specific_yield(wh, kwp):
    """kWh per installed kWp, to the hundredth (at most the column's 99,999.99, for a capacity
    entered far too small); None without a day's figure or a capacity."""
    if wh is None or not kwp:
        return None
    return min((Decimal(wh) / 1000 / kwp).quantize(Decimal("0.01")), YIELD_MAX)


YIELD_MAX = Decimal("99999.99")


def fleet_figures_of(*, company_id, now):
    """The company's stored figures, recomputed first when older than their limit or of another day."""
    stored = (
        FleetFigures.objects.filter(
            company_id=company_id,
            day=timezone.localdate(now),
            # The beat's period and a margin: older, the beat is down or far behind.
            computed_at__gte=now - timedelta(seconds=3 * settings.FLEET_FIGURES_SECONDS),
        )
        .values(*FIGURES, "computed_at")
        .first()
    )
    return stored or fleet_figures_refresh(now=now, company_ids=[company_id])[company_id]


def plants_needing_attention(plants, *, limit):
    """The plants that need attention, worst first: a dead plant, then an active fault, then a
    partial outage, then unfinished commissioning; by name within each. Each rank's first `limit`
    plants are read by index (the stored status with the company and the name; the active faults
    from the active alarms), so that the list costs the same in any fleet size."""
    # The portal's active faults are few: incidents, not plants.
    faults = Alarm.objects.filter(cleared_at__isnull=True, code__kind=AlarmCode.Kind.FAULT)
    n_faults = dict(faults.order_by().values("plant").annotate(n=Count("pk")).values_list("plant", "n"))
    faulty = list(n_faults)
    ranks = [
        plants.filter(status=PlantStatus.OFFLINE),
        plants.filter(pk__in=faulty).exclude(status=PlantStatus.OFFLINE),
        plants.filter(status=PlantStatus.PARTIALLY_OFFLINE).exclude(pk__in=faulty),
        plants.filter(status=PlantStatus.INCOMPLETE).exclude(pk__in=faulty),
    ]
    first, *others = (
        worse.annotate(rank=Value(rank)).order_by("name", "pk")[:limit] for rank, worse in enumerate(ranks)
    )
    watched = first.union(*others, all=True).order_by("rank", "name", "pk")[:limit]
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
