import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from core.access import role_required
from core.csvexport import csv_response, local_time
from core.edge import parse_id
from core.forms import add_errors
from plants import services as plant_services
from plants.forms import GrantForm
from plants.models import CommissioningStep, Plant
from plants.shortcuts import get_plant_for_user, get_rw_plant_for_user

from . import hubstate, remote, services, tasks
from .forms import DataloggerForm, FirmwareNoteForm, MoveDataloggerForm
from .models import Datalogger, FirmwareNote, Inverter, SettingChange
from .polling import datalogger_test_connection
from .registermap import BY_KEY, PUBLIC_DOCUMENT, SCREEN_ONLY, describe
from .settings_forms import SettingsForm


@login_required
@require_safe
def inverter_detail(request, pk):
    """Every live value of the inverter, labelled and with its unit, from the register map."""
    inverter = get_object_or_404(
        Inverter.objects.restrict(request.user, "view").select_related("datalogger__plant", "live"), pk=pk
    )
    seen = inverter.seen_by(request.user)
    return render(
        request,
        "devices/inverter.html",
        {
            "inverter": inverter,
            "latest_at": inverter.latest_at if seen else None,
            "rows": describe(inverter.latest if seen else {}),
            "plant": inverter.datalogger.plant,
            "public_document": PUBLIC_DOCUMENT,
        },
    )


DECIDED = {
    "confirm": gettext_lazy("Replacement confirmed: %(serial)s is this plant's inverter."),
    "reject": gettext_lazy("Replacement rejected: the readings of %(serial)s leave the plant's figures."),
}


@require_POST
@login_required
def inverter_replacement(request, pk, decision):
    """The installer's answer to "Inverter replaced": yes (confirm) or no (reject)."""
    if decision not in DECIDED:
        raise Http404
    inverter = _inverter_for(request, pk, "change")
    confirmed = decision == "confirm"
    if services.inverter_replacement_decide(inverter=inverter, by=request.user, confirmed=confirmed):
        messages.success(request, DECIDED[decision] % {"serial": inverter.serial_number})
    return redirect("plants:detail", pk=inverter.datalogger.plant_id)


def _inverter_for(request, pk, action):
    """The inverter if `request.user` may see it ("view") or change it ("change"); 404 otherwise
    (403 for one who may see but not change)."""
    inverter = get_object_or_404(
        Inverter.objects.restrict(request.user, "view").select_related("datalogger__plant", "live"), pk=pk
    )
    if action == "change" and not Inverter.objects.restrict(request.user, "change").filter(pk=pk).exists():
        raise PermissionDenied
    return inverter


@require_safe
@login_required
def inverter_settings(request, pk):
    """Remote control: the settings to read live ("Lire") and change ("Paramétrer"), and those that
    are only set on the inverter's screen, with the guide's instruction."""
    inverter = _inverter_for(request, pk, "view")
    if request.user.is_customer:
        raise PermissionDenied
    can_write = Inverter.objects.restrict(request.user, "change").filter(pk=pk).exists()
    return render(
        request,
        "devices/settings.html",
        {
            "inverter": inverter,
            "plant": inverter.datalogger.plant,
            "can_write": can_write,
            "can_read": can_write
            or request.user.is_distributor_admin,  # a company's viewer reads stored values
            "screen_only": [
                (label, instruction, inverter.latest.get(key))
                for key, (label, instruction) in SCREEN_ONLY.items()
            ],
            "grid_standard": BY_KEY["grid_standard"],
            "grid_standard_now": (
                BY_KEY["grid_standard"].display(inverter.latest["grid_standard"])
                if inverter.latest.get("grid_standard") is not None
                else ""
            ),
            "changes": inverter.setting_changes.select_related("by__company")[:20],
        },
    )


@require_POST
@login_required
def inverter_settings_read(request, pk):
    """Read the settings live from the inverter now; an htmx fragment with the form to change them
    (the distributor admin reads them too, without the means to write)."""
    inverter = _inverter_for(request, pk, "view" if request.user.is_distributor_admin else "change")
    try:
        current = remote.settings_read(inverter=inverter)
    except remote.UNREACHABLE as e:
        return render(request, "devices/_settings_unreachable.html", {"error": e, "inverter": inverter})
    return render(
        request,
        "devices/_settings_form.html",
        {
            "inverter": inverter,
            "can_write": not request.user.is_distributor_admin,
            "form": SettingsForm(current=current),
            "read_at": timezone.now(),
            "current_json": json.dumps(current),
        },
    )


def _is_setting_value(value):
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)


@require_POST
@login_required
def inverter_settings_write(request, pk):
    """Validate the changed values; ask to confirm with old → new in words; then record and send."""
    inverter = _inverter_for(request, pk, "change")
    try:
        current = json.loads(request.POST.get("current") or "{}")
    except ValueError:
        current = None
    if not isinstance(current, dict):
        return HttpResponseBadRequest(_("The values read from the inverter are missing; read them again."))
    # Only shown back to the installer (old → new) and compared with the form: never stored. A value
    # of another type than the map's is not one the inverter gave.
    current = {k: v for k, v in current.items() if k in BY_KEY and _is_setting_value(v)}
    form = SettingsForm(request.POST, current=current)
    context = {"inverter": inverter, "form": form, "current_json": json.dumps(current), "can_write": True}
    if not form.is_valid():
        return render(request, "devices/_settings_form.html", context)
    new = form.changes()
    if not new:
        return render(request, "devices/_settings_form.html", {**context, "nothing": True})
    if any(BY_KEY[key].setting.confirm for key in new) and request.POST.get("confirmed") != "1":
        rows = [
            (BY_KEY[k].label, BY_KEY[k].display(current.get(k)), BY_KEY[k].display(v)) for k, v in new.items()
        ]
        return render(request, "devices/_settings_confirm.html", {**context, "rows": rows})
    try:
        changes = remote.setting_changes_request(inverter=inverter, by=request.user, new=new)
    except ValidationError as e:
        form.add_error(None, e)
        return render(request, "devices/_settings_form.html", context)
    tasks.apply_setting_changes.delay_on_commit([c.pk for c in changes])
    return render(request, "devices/_settings_progress.html", {"inverter": inverter, "changes": changes})


@require_safe
@login_required
def inverter_setting_changes(request, pk):
    """The outcome of the last changes, for the page to show without a reload (htmx polling)."""
    inverter = _inverter_for(request, pk, "change")
    ids = [i for i in map(parse_id, request.GET.getlist("id")) if i is not None][:20]
    changes = list(inverter.setting_changes.filter(pk__in=ids).select_related("by__company"))
    return render(request, "devices/_settings_progress.html", {"inverter": inverter, "changes": changes})


@require_safe
@login_required
def inverter_live(request, pk):
    """The live session: values read straight from the stick every few seconds while the page is open."""
    inverter = _inverter_for(request, pk, "change")
    return render(request, "devices/live.html", {"inverter": inverter, "plant": inverter.datalogger.plant})


@require_safe
@login_required
def inverter_live_values(request, pk):
    """One live read of the inverter (bypassing stored data), as an htmx fragment."""
    inverter = _inverter_for(request, pk, "change")
    try:
        values = remote.live_read(inverter=inverter)
    except remote.UNREACHABLE as e:
        return render(request, "devices/_live_values.html", {"inverter": inverter, "error": e})
    return render(
        request,
        "devices/_live_values.html",
        {"inverter": inverter, "values": values, "rows": describe(values), "read_at": timezone.now()},
    )


# A plant's dataloggers and commissioning (URLs in the plant's space: devices.urls.plant_urlpatterns).


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
def commission(request, pk, step):
    """The commissioning stepper: each step is a page; the installer may leave and come back."""
    plant = get_rw_plant_for_user(request, pk)
    # The last step, the checklist, is commissioning's (commissioning.urls comes first).
    if step not in CommissioningStep.values or step in (CommissioningStep.PLANT, CommissioningStep.FINISH):
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
                services.datalogger_attach(plant=plant, **form.cleaned_data)
                messages.success(request, _("Datalogger added. Now test its connection."))
                return redirect("plants:commission", pk=pk, step=CommissioningStep.TEST)
            except ValidationError as e:
                add_errors(form, e)
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
        services.datalogger_move(logger=logger, to_plant=form.cleaned_data["to_plant"])
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
    services.datalogger_remove(logger=logger)
    messages.success(
        request, _("Datalogger %(sn)s removed; its history is kept.") % {"sn": logger.serial_number}
    )
    return redirect("plants:detail", pk=pk)


@login_required
@require_POST
def battery_confirm(request, pk, inverter_pk):
    """The installer confirms the battery an inverter reports, unlike the declared model."""
    plant = get_rw_plant_for_user(request, pk)
    inverter = get_object_or_404(Inverter, pk=inverter_pk, datalogger__plant=plant)
    plant_services.plant_confirm_battery(plant=plant, battery_name=inverter.battery_name)
    messages.success(request, _("Battery confirmed: the warning will not show again."))
    return redirect("plants:detail", pk=pk)


@require_safe
@role_required("is_installer", "is_distributor_admin")
def firmware_inventory(request):
    """The fleet's inverters by firmware version, with the distributor's notes; each version links
    to its plants. The sticks' own versions are not readable (docs/hardware-assumptions.md)."""
    rows = list(Inverter.objects.restrict(request.user, "view").firmware_inventory())
    notes = {(n.firmware_arm, n.firmware_dsp): n for n in FirmwareNote.objects.all()}
    for row in rows:
        row["note"] = notes.get((row["firmware_arm"], row["firmware_dsp"]))
        row["filter"] = f"{row['firmware_arm']}/{row['firmware_dsp']}"
    return render(request, "devices/firmware.html", {"rows": rows})


@role_required("is_distributor_admin")
@require_POST
def firmware_note(request):
    form = FirmwareNoteForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(e for errors in form.errors.values() for e in errors))
    services.firmware_note_save(by=request.user, **form.cleaned_data)
    messages.success(request, _("Note saved."))
    return redirect("devices:firmware")
