"""A plant as a whole, with its devices, alarms and energy: the plant list and the dashboard."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from alarms.forms import MaintenanceForm
from alarms.models import Alarm, AlarmNote, MaintenanceWindow
from commissioning.checks import checklist_of
from commissioning.models import HandoverReport
from core.access import company_member_required
from core.pagination import FromEitherEndPaginator
from economics.money import money_periods
from economics.reports import previous_month
from energy import reports
from energy.accounting import local_today
from energy.models import FLOWS
from plants.filters import PlantFilterSet, filter_query
from plants.forms import SavedFilterForm
from plants.models import Plant, SavedFilter, fleet_counts, sees_whole_company
from plants.services import saved_filter_save
from plants.shortcuts import get_plant_for_user

from .fleet import fleet_figures_of


@login_required
@require_safe
def plant_list(request):
    """The fleet table: each plant's status and figures, filtered and sorted by the database (one
    index range per page, whatever the fleet's size)."""
    if sees_whole_company(request.user):
        # The beat keeps the figures; this recomputes them only when it is far behind.
        fleet_figures_of(company_id=request.user.company_id, now=timezone.now())
    plants = (
        Plant.objects.restrict(request.user, "view")
        .select_related("company", "figures")
        .order_by("name", "pk")
    )
    filters = PlantFilterSet(request.GET, queryset=plants, request=request)
    shown = filters.qs if filters.is_valid() else plants.none()  # the form says what is wrong
    plant_counts, _kwp = fleet_counts(request.user)
    paginator = FromEitherEndPaginator(shown, 25)
    if filters.is_valid() and (known := filters.known_count(plant_counts)) is not None:
        paginator.count = known  # a cached property: no COUNT over the whole fleet
    page = paginator.get_page(request.GET.get("page"))
    for plant in page:
        plant.figures.redact_for(request.user)
    kept_query = filter_query(request.GET)  # what "Keep this filter" would keep
    return render(
        request,
        "plants/list.html",
        {
            "page": page,
            "filters": filters,
            "plant_counts": plant_counts,
            "plant_total": sum(plant_counts.values()),
            "alarm_counts": Alarm.objects.restrict(request.user, "view").active_counts(),
            "saved_filters": SavedFilter.objects.filter(user=request.user)
            if request.user.is_installer
            else [],
            "filtered": filters.is_valid() and bool(kept_query),
            "save_form": SavedFilterForm(initial={"query": kept_query or ""}),
            "last_month": previous_month(timezone.localdate()),
        },
    )


@company_member_required
@require_POST
def saved_filter_create(request):
    """Keep the plant list's current filters under a name (a person's own, viewers included)."""
    form = SavedFilterForm(request.POST)
    query = filter_query(QueryDict(form.data.get("query", "")[:500])) if form.is_valid() else None
    if query:
        try:
            saved_filter_save(user=request.user, name=form.cleaned_data["name"], query=query)
        except ValidationError as e:
            form.add_error(None, e)
        else:
            messages.success(request, _("Filter “%(name)s” kept.") % {"name": form.cleaned_data["name"]})
            return redirect(f"{reverse('plants:list')}?{query}")
    elif form.is_valid() and query == "":
        form.add_error(None, _("Choose at least one filter before keeping it."))
    elif form.is_valid():
        form.add_error(None, _("These filters are not valid: correct them on the list first."))
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("plants:list")


@login_required
@require_POST
def saved_filter_delete(request, pk):
    get_object_or_404(SavedFilter, pk=pk, user=request.user).delete()
    return redirect("plants:list")


def _dashboard(plant, user):
    """What the plant's dashboard and its live fragment show `user` (nothing from before a hand-over
    to its new owner)."""
    loggers = plant.dataloggers.filter(archived_at__isnull=True).prefetch_related("inverters__live")
    inverters = [inv for lg in loggers for inv in lg.inverters.all()]
    since = plant.history_since_for(user)
    return {
        "plant": plant,
        "loggers": loggers,
        "live": reports.live_flow(inverters, since=since),
        "today": reports.today_summary(plant, since=since),
        "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS,
    }


@login_required
@require_safe
def plant_detail(request, pk):
    plant = get_plant_for_user(request, pk)
    # Each alarm with the notes its reader may see (a customer: those written for them).
    notes = Prefetch(
        "notes",
        AlarmNote.objects.restrict(request.user, "view").select_related("by"),
        to_attr="visible_notes",
    )
    alarms = (
        Alarm.objects.restrict(request.user, "view")
        .filter(plant=plant)
        .select_related("code")
        .prefetch_related(notes)
    )
    today = local_today(plant)
    dashboard = _dashboard(plant, request.user)
    inverters = [inv for logger in dashboard["loggers"] for inv in logger.inverters.all()]
    # What commissioning still misses, for the installers; the customer sees the reports.
    checklist = None
    if not request.user.is_customer and plant.commissioning_completed_at is None:
        checklist = checklist_of(plant)
    context = {
        **dashboard,
        "commissioning_missing": checklist.missing() if checklist else [],
        "commissioning_progress": checklist.progress if checklist else None,
        # Maintenance windows are the installers' (their reasons are internal), not the customer's.
        "maintenance": []
        if request.user.is_customer
        else MaintenanceWindow.objects.filter(plant=plant, ends_at__gt=timezone.now()).select_related(
            "by", "code"
        ),
        "maintenance_form": MaintenanceForm(),
        "reports": HandoverReport.objects.restrict(request.user, "view").filter(plant=plant)[:3]
        if plant.commissioning_completed_at
        else [],
        "replacements": [inv for inv in inverters if inv.replacement_pending],
        "active_alarms": alarms.active().triage_order(),
        "can_edit": Plant.objects.restrict(request.user, "change").filter(pk=pk).exists(),
        "month_start": today.replace(day=1),
        "today_date": today,
        # What the energy was worth, once the plant has a tariff (economics).
        "money": money_periods(
            plant,
            today,
            {"today": _("Today"), "billing": _("This billing period")},
            since=plant.history_since_for(request.user),
        )
        if plant.tariffs.exists()
        else None,
        "chart_words": {
            "pv_power": _("PV"),
            "load_power": _("Home"),
            "battery_power": _("Battery (+ discharge)"),
            "grid_power": _("Grid (+ import)"),
            **{flow: str(label) for flow, label in FLOWS.items()},
            "self_consumption_pct": _("Self-consumption"),
            "self_sufficiency_pct": _("Self-sufficiency"),
            "other_production": _("Existing PV (derived from the balance)"),
            "total": _("Total:"),
            "kw": "kW",
            "kwh": "kWh",
            "gaps": _(
                "%(seen)s of %(all)s five-minute slots have a reading; the others are gaps in the curves."
            ),
        },
    }
    return render(request, "plants/detail.html", context)


@login_required
@require_safe
def plant_live(request, pk):
    """The live power flow and today's energy, refreshed by the dashboard every 30 seconds."""
    plant = get_plant_for_user(request, pk)
    return render(request, "plants/_live.html", _dashboard(plant, request.user))
