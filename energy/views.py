"""CSV exports of a plant's daily energy and raw readings, for installers and the plant's customers."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.csvexport import csv_download, csv_lines
from plants.shortcuts import get_plant_for_user

from . import battery, reports, tasks
from .accounting import local_today
from .exports import readings_export_request, readings_rows_estimate
from .forms import RangeForm
from .models import ReadingsExport


def _range_or_400(request, plant, *, default_start):
    """The asked range of local days (by default `default_start` to today), or the form's 400."""
    today = local_today(plant)
    form = RangeForm(
        {"start": default_start(today).isoformat(), "end": today.isoformat(), **request.GET.dict()}
    )
    if form.is_valid():
        return form, None
    return form, render(request, "energy/range_error.html", {"plant": plant, "form": form}, status=400)


def asked_range(request, pk, *, default_start):
    """(the plant, first day, last day, None) as the request asks, or (…, the range's 400 page)."""
    plant = get_plant_for_user(request, pk)
    form, error = _range_or_400(request, plant, default_start=default_start)
    if error:
        return plant, None, None, error
    return plant, form.cleaned_data["start"], form.cleaned_data["end"], None


@login_required
@require_safe
def daily_csv(request, pk):
    """Daily energy of the plant, in Wh, for ?start=YYYY-MM-DD&end=YYYY-MM-DD (local days; by
    default this month)."""
    plant, first, last, error = asked_range(request, pk, default_start=lambda today: today.replace(day=1))
    if error:
        return error
    since = plant.history_since_for(request.user)
    rows = reports.daily_rows(plant, first, last, reports.daily_header(), since=since)
    return csv_download(csv_lines(rows), filename=f"energy-{plant.pk}.csv")


@login_required
@require_safe
def readings_csv(request, pk):
    """Every history row of the plant's inverters (5-minute slots), streamed, local times (by default
    today): formatted by PostgreSQL (core.csvexport.copy_lines). Longer than EXPORT_BACKGROUND_ROWS:
    built in the background, and this page says when it can be downloaded."""
    plant, first, last, error = asked_range(request, pk, default_start=lambda today: today)
    if error:
        return error
    if readings_rows_estimate(plant=plant, first=first, last=last) > settings.EXPORT_BACKGROUND_ROWS:
        export, new = readings_export_request(user=request.user, plant=plant, first=first, last=last)
        if new:
            tasks.build_readings_export.delay_on_commit(export.pk)
        return redirect("energy:readings_export", plant.pk, export.pk)
    lines = reports.readings_lines(
        plant, first, last, since=plant.history_since_for(request.user), serials=not request.user.is_customer
    )
    return csv_download(lines, filename=f"readings-{plant.pk}.csv")


def _readings_export_or_404(request, pk, export_pk):
    """The export this person asked for, of a plant they may still see."""
    plant = get_plant_for_user(request, pk)
    return get_object_or_404(ReadingsExport, pk=export_pk, plant=plant, user=request.user)


@login_required
@require_safe
def readings_export(request, pk, export_pk):
    """Where a long readings CSV stands; htmx asks again every few seconds until it is ready."""
    export = _readings_export_or_404(request, pk, export_pk)
    partial = request.headers.get("HX-Request")
    template = "energy/_readings_export.html" if partial else "energy/readings_export.html"
    return render(request, template, {"plant": export.plant, "export": export})


@login_required
@require_safe
def readings_export_download(request, pk, export_pk):
    export = _readings_export_or_404(request, pk, export_pk)
    if export.status != ReadingsExport.Status.READY or export.expires_at <= timezone.now():
        raise Http404
    return FileResponse(
        export.file.open("rb"), as_attachment=True, filename=export.filename, content_type="text/csv"
    )


@login_required
@require_safe
def battery_health(request, pk):
    """Each battery's state of health over the last year, with its equivalent full cycles."""
    plant = get_plant_for_user(request, pk)
    charts = battery.battery_charts(plant, user=request.user)
    context = {
        "plant": plant,
        "tab": "battery",
        "charts": charts,
        "width": battery.CHART_WIDTH,
        "height": battery.CHART_HEIGHT,
        "warranty": settings.BATTERY_WARRANTY_SOH_PCT,
        "warranty_y": (100 - settings.BATTERY_WARRANTY_SOH_PCT) / 100 * battery.CHART_HEIGHT,
    }
    return render(request, "energy/battery.html", context)
