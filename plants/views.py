from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from alarms.models import Alarm
from devices import hubstate
from devices import services as device_services
from devices.forms import DataloggerForm, MoveDataloggerForm
from devices.models import Datalogger, Inverter, SettingChange
from devices.polling import datalogger_test_connection
from devices.registermap import BY_KEY
from energy import reports
from energy.accounting import local_today
from energy.models import FLOWS
from portal.access import installer_required
from portal.csvexport import csv_response, local_time

from . import services
from .filters import PlantFilterSet
from .forms import GrantForm, PhotoForm, PlantForm, TransferForm
from .models import CommissioningStep, Plant, PlantGrant, PlantPhoto, fleet_counts


def get_plant_for_user(request, pk):
    """The plant if `request.user` may see it, else 404 (never reveal another company's plant)."""
    return get_object_or_404(Plant.objects.restrict(request.user, "view"), pk=pk)


def get_rw_plant_for_user(request, pk):
    """The plant if `request.user` may change it: 404 if unseen, 403 if seen read-only."""
    plant = get_plant_for_user(request, pk)
    if not Plant.objects.restrict(request.user, "change").filter(pk=pk).exists():
        raise PermissionDenied
    return plant


def _add_errors(form, error):
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


@login_required
@require_safe
def plant_list(request):
    plants = Plant.objects.restrict(request.user, "view").select_related("company").order_by("name", "pk")
    filters = PlantFilterSet(request.GET, queryset=plants)
    shown = filters.qs if filters.is_valid() else plants.none()  # the form says what is wrong
    plant_counts, _kwp = fleet_counts(request.user)
    paginator = Paginator(shown, 25)
    if filters.is_valid() and (known := filters.known_count(plant_counts)) is not None:
        paginator.count = known  # a cached property: no COUNT over the whole fleet
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "plants/list.html",
        {
            "page": page,
            "filters": filters,
            "plant_counts": plant_counts,
            "plant_total": sum(plant_counts.values()),
            "alarm_counts": Alarm.objects.restrict(request.user, "view").active_counts(),
        },
    )


@installer_required
def plant_create(request):
    form = PlantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        plant = services.plant_create(company=request.user.company, by=request.user, **form.cleaned_data)
        messages.success(request, _("Plant created. Next: add its datalogger."))
        return redirect("plants:commission", pk=plant.pk, step=CommissioningStep.DATALOGGER)
    return render(request, "plants/create.html", {"form": form, "step": CommissioningStep.PLANT})


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
    alarms = Alarm.objects.restrict(request.user, "view").filter(plant=plant).select_related("code")
    today = local_today(plant)
    dashboard = _dashboard(plant, request.user)
    inverters = [inv for logger in dashboard["loggers"] for inv in logger.inverters.all()]
    context = {
        **dashboard,
        "replacements": [inv for inv in inverters if inv.replacement_pending],
        "active_alarms": alarms.active().triage_order(),
        "can_edit": Plant.objects.restrict(request.user, "change").filter(pk=pk).exists(),
        "month_start": today.replace(day=1),
        "today_date": today,
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


@login_required
def plant_edit(request, pk):
    plant = get_rw_plant_for_user(request, pk)
    form = PlantForm(request.POST or None, instance=plant)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Plant saved."))
        return redirect("plants:about", pk=pk)
    return render(request, "plants/edit.html", {"plant": plant, "form": form})


def _settings_log_rows(plant, changes):
    yield [_("When"), _("Who"), _("Setting"), _("Old value"), _("New value"), _("Outcome"), _("Answer")]
    for c in changes.iterator():
        register = BY_KEY[c.key]
        yield [
            local_time(c.created_at, plant.tzinfo),
            c.by.get_full_name() or c.by.username,
            register.label,
            register.display(c.old_value),
            register.display(c.new_value),
            c.get_outcome_display(),
            c.answer,
        ]


@require_safe
@login_required
def settings_log(request, pk):
    """Every remote change of the plant's inverters, in plain words; read-only, for the installer
    company and the plant's customer alike (?format=csv to download it)."""
    plant = get_plant_for_user(request, pk)
    changes = (
        SettingChange.objects.restrict(request.user, "view").filter(plant=plant).select_related("by__company")
    )
    if request.GET.get("format") == "csv":
        return csv_response(_settings_log_rows(plant, changes), filename="settings-log.csv")
    return render(request, "plants/settings_log.html", {"plant": plant, "changes": changes[:200]})


@login_required
def plant_about(request, pk):
    plant = get_plant_for_user(request, pk)
    can_edit = Plant.objects.restrict(request.user, "change").filter(pk=pk).exists()
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.photo_add(
                    plant=plant,
                    by=request.user,
                    upload=form.cleaned_data["image"],
                    caption=form.cleaned_data["caption"],
                )
                messages.success(request, _("Photo added."))
                return redirect("plants:about", pk=pk)
            except ValidationError as e:
                _add_errors(form, e)
    return render(
        request,
        "plants/about.html",
        {
            "plant": plant,
            "photos": PlantPhoto.objects.restrict(request.user, "view").filter(plant=plant),
            "form": form,
            "can_edit": can_edit,
            "max_bytes": settings.PHOTO_MAX_BYTES,
        },
    )


@login_required
@require_safe
def photo_file(request, pk, photo_pk, variant):
    plant = get_plant_for_user(request, pk)
    photo = get_object_or_404(PlantPhoto.objects.restrict(request.user, "view"), pk=photo_pk, plant=plant)
    field = photo.thumbnail if variant == "thumb" else photo.image
    # Stored photos are JPEGs re-encoded by the portal; say so whatever the file is called, and forbid
    # the browser anything but showing an image (no script, no sniffing into HTML).
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    # (Inline style only for the browser's own image viewer; scripts stay forbidden by the sandbox.)
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def photo_delete(request, pk, photo_pk):
    plant = get_rw_plant_for_user(request, pk)
    get_object_or_404(PlantPhoto, pk=photo_pk, plant=plant).delete()
    messages.success(request, _("Photo deleted."))
    return redirect("plants:about", pk=pk)


@login_required
def commission(request, pk, step):
    """The commissioning stepper: each step is a page; the installer may leave and come back."""
    plant = get_rw_plant_for_user(request, pk)
    if step not in CommissioningStep.values or step == CommissioningStep.PLANT:
        raise Http404
    context = {
        "plant": plant,
        "step": step,
        "next_step": plant.next_step,
        "loggers": plant.dataloggers.filter(archived_at__isnull=True),
        "hub_host": settings.LOGGER_HUB_PUBLIC_HOST,
        "hub_port": settings.LOGGER_HUB_PORT,
    }
    if step == CommissioningStep.DATALOGGER:
        form = DataloggerForm(
            request.POST or None,
            initial={"host": settings.DEFAULT_LOGGER_HOST, "port": settings.DEFAULT_LOGGER_PORT},
        )
        if request.method == "POST" and form.is_valid():
            try:
                device_services.datalogger_attach(plant=plant, **form.cleaned_data)
                messages.success(request, _("Datalogger added. Now test its connection."))
                return redirect("plants:commission", pk=pk, step=CommissioningStep.TEST)
            except ValidationError as e:
                _add_errors(form, e)
        context["form"] = form
    elif step == CommissioningStep.TEST and request.method == "POST":
        context["results"] = [(logger, datalogger_test_connection(logger)) for logger in context["loggers"]]
        context["inverters"] = {
            inv.datalogger_id: inv for logger in context["loggers"] for inv in logger.inverters.all()
        }
        if request.headers.get("HX-Request"):
            return render(request, "plants/_test_results.html", context)
    elif step == CommissioningStep.CUSTOMER:
        context["form"] = GrantForm()
        context["grants"] = plant.grants.select_related("customer")
    elif step == CommissioningStep.FINISH and request.method == "POST":
        services.plant_complete_commissioning(plant=plant)
        messages.success(request, _("Commissioning complete."))
        return redirect("plants:detail", pk=pk)
    return render(request, f"plants/commission_{step}.html", context)


def _get_rw_logger(request, pk, logger_pk):
    plant = get_rw_plant_for_user(request, pk)
    return plant, get_object_or_404(Datalogger.objects.active(), pk=logger_pk, plant=plant)


@login_required
def datalogger_move(request, pk, logger_pk):
    plant, logger = _get_rw_logger(request, pk, logger_pk)
    others = Plant.objects.restrict(request.user, "change").exclude(pk=plant.pk)
    form = MoveDataloggerForm(request.POST or None, plants=others)
    if request.method == "POST" and form.is_valid():
        device_services.datalogger_move(logger=logger, to_plant=form.cleaned_data["to_plant"])
        messages.success(request, _("Datalogger %(sn)s moved.") % {"sn": logger.serial_number})
        return redirect("plants:detail", pk=form.cleaned_data["to_plant"].pk)
    return render(request, "plants/datalogger_move.html", {"plant": plant, "logger": logger, "form": form})


@require_safe
@login_required
def datalogger_called_in(request, pk, logger_pk):
    """Has the stick called the hub in yet? An htmx fragment the test step polls until it has."""
    plant, logger = _get_rw_logger(request, pk, logger_pk)
    return render(
        request,
        "plants/_called_in.html",
        {"plant": plant, "logger": logger, "since": hubstate.called_in_since(logger.serial_number)},
    )


@login_required
@require_POST
def datalogger_remove(request, pk, logger_pk):
    plant, logger = _get_rw_logger(request, pk, logger_pk)
    device_services.datalogger_remove(logger=logger)
    messages.success(
        request, _("Datalogger %(sn)s removed; its history is kept.") % {"sn": logger.serial_number}
    )
    return redirect("plants:detail", pk=pk)


@login_required
def grants(request, pk):
    plant = get_rw_plant_for_user(request, pk)
    form = GrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_create(plant=plant, by=request.user, **form.cleaned_data)
            messages.success(
                request, _("Access granted to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            if request.POST.get("from_stepper"):
                return redirect("plants:commission", pk=pk, step=CommissioningStep.FINISH)
            return redirect("plants:grants", pk=pk)
        except ValidationError as e:
            _add_errors(form, e)
    template = "plants/commission_customer.html" if request.POST.get("from_stepper") else "plants/grants.html"
    return render(
        request,
        template,
        {
            "plant": plant,
            "form": form,
            "grants": plant.grants.select_related("customer"),
            "step": CommissioningStep.CUSTOMER,
            "next_step": plant.next_step,
        },
    )


@login_required
def plant_transfer(request, pk):
    """Hand the plant over to a new owner (a house sold): the current customers lose access."""
    plant = get_rw_plant_for_user(request, pk)
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plant_transfer(plant=plant, by=request.user, **form.cleaned_data)
            messages.success(
                request, _("The plant now belongs to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("plants:grants", pk=pk)
        except ValidationError as e:
            _add_errors(form, e)
    return render(request, "plants/transfer.html", {"plant": plant, "form": form})


@login_required
@require_POST
def battery_confirm(request, pk, inverter_pk):
    """The installer confirms the battery an inverter reports, unlike the declared model."""
    plant = get_rw_plant_for_user(request, pk)
    inverter = get_object_or_404(Inverter, pk=inverter_pk, datalogger__plant=plant)
    services.plant_confirm_battery(plant=plant, battery_name=inverter.battery_name)
    messages.success(request, _("Battery confirmed: the warning will not show again."))
    return redirect("plants:detail", pk=pk)


@login_required
def grant_check(request, pk):
    """The stepper's "check" button: says at once what granting this e-mail will do."""
    get_rw_plant_for_user(request, pk)
    return render(request, "plants/_grant_check.html", {"email": request.GET.get("email", "").strip()})


@login_required
@require_POST
def grant_revoke(request, pk, grant_pk):
    plant = get_rw_plant_for_user(request, pk)
    grant = get_object_or_404(PlantGrant, pk=grant_pk, plant=plant)
    services.grant_revoke(grant=grant)
    messages.success(request, _("Access of %(email)s revoked.") % {"email": grant.customer.email})
    return redirect("plants:grants", pk=pk)


@login_required
def plant_archive(request, pk):
    plant = get_rw_plant_for_user(request, pk)
    if request.method == "POST":
        if request.POST.get("confirm_name", "").strip() != plant.name:
            messages.error(request, _("Type the plant's name exactly to confirm."))
        else:
            services.plant_archive(plant=plant, by=request.user)
            messages.success(
                request, _("Plant “%(name)s” deleted. Its alarm history is kept.") % {"name": plant.name}
            )
            return redirect("plants:list")
    return render(request, "plants/archive.html", {"plant": plant})


@login_required
def invitation(request, token):
    """An existing customer's invitation to see a plant: shown, then accepted by that customer only."""
    grant = get_object_or_404(PlantGrant.objects.select_related("plant", "granted_by__company"), token=token)
    if grant.customer_id != request.user.pk:
        raise Http404
    if request.method == "POST":
        try:
            services.grant_accept(grant=grant, customer=request.user)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
            return redirect("home")
        messages.success(request, _("The plant is now in your account."))
        return redirect("plants:detail", pk=grant.plant_id)
    return render(request, "plants/invitation.html", {"grant": grant})
