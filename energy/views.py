"""CSV exports of a plant's daily energy and raw readings, for installers and the plant's customers."""

import itertools

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.csvexport import copy_lines, csv_download, csv_lines
from plants.shortcuts import get_plant_for_user

from . import reports
from .accounting import local_today
from .forms import RangeForm


def _range_or_400(request, plant, *, default_start):
    """The asked range of local days (by default `default_start` to today), or the form's 400."""
    today = local_today(plant)
    form = RangeForm(
        {"start": default_start(today).isoformat(), "end": today.isoformat(), **request.GET.dict()}
    )
    if form.is_valid():
        return form, None
    return form, render(request, "energy/range_error.html", {"plant": plant, "form": form}, status=400)


def _export(request, pk, *, default_start, lines, name):
    """The plant's CSV `name` of `lines(plant, first day, last day, since)`, or the range's 400."""
    plant = get_plant_for_user(request, pk)
    form, error = _range_or_400(request, plant, default_start=default_start)
    if error:
        return error
    since = plant.history_since_for(request.user)
    return csv_download(
        lines(plant, form.cleaned_data["start"], form.cleaned_data["end"], since),
        filename=f"{name}-{plant.pk}.csv",
    )


@login_required
@require_safe
def daily_csv(request, pk):
    """Daily energy of the plant, in Wh, for ?start=YYYY-MM-DD&end=YYYY-MM-DD (local days; by
    default this month)."""
    return _export(
        request,
        pk,
        default_start=lambda today: today.replace(day=1),
        lines=lambda plant, first, last, since: csv_lines(
            reports.daily_rows(plant, first, last, reports.daily_header(), since=since)
        ),
        name="energy",
    )


@login_required
@require_safe
def readings_csv(request, pk):
    """Every history row of the plant's inverters (5-minute slots), streamed, local times (by default
    today): formatted by PostgreSQL (core.csvexport.copy_lines)."""
    return _export(
        request,
        pk,
        default_start=lambda today: today,
        lines=lambda plant, first, last, since: itertools.chain(
            csv_lines([reports.readings_header()]),
            copy_lines(reports.readings_queries(plant, first, last, since=since)),
        ),
        name="readings",
    )
