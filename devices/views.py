import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from portal.edge import parse_id

from . import remote, services, tasks
from .models import Inverter
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
    return render(
        request,
        "devices/settings.html",
        {
            "inverter": inverter,
            "plant": inverter.datalogger.plant,
            "can_write": Inverter.objects.restrict(request.user, "change").filter(pk=pk).exists(),
            "can_read": request.user.is_installer or request.user.is_distributor_admin,
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
        {"inverter": inverter, "rows": describe(values), "read_at": timezone.now()},
    )
