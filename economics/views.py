"""A plant's savings and tariffs, and the Tempo calendar: installers set the tariffs of their
plants, the plant's customers see them and what the energy was worth, the distributor keeps the
Tempo colours."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.access import company_member_required
from core.csvexport import csv_download, csv_lines
from core.units import cents
from energy.accounting import local_today
from energy.forms import FIRST_DAY
from energy.views import asked_range
from plants.shortcuts import get_plant_for_user, get_rw_plant_for_user

from . import charging, money, reports
from .forms import TariffForm, TempoDayForm, TempoImportForm
from .models import ChargeSchedule, Tariff, TempoDay
from .services import tempo_days_save

TEMPO_SHOWN_DAYS = 62


def period_labels():
    return {
        "today": _("Today"),
        "billing": _("This billing period"),
        "year": _("This year"),
        "all": _("Since the first day counted"),
    }


@login_required
@require_safe
def savings(request, pk):
    """What the plant's energy was worth: today, this billing period, this year and in all, then the
    months of this year, the years and the days of this billing period (the days read once)."""
    plant = get_plant_for_user(request, pk)
    today = local_today(plant)
    since = plant.history_since_for(request.user)
    tariff = plant.tariffs.in_force(today)
    every_day = money.money_by_day(plant, date.min, today, since=since)
    periods = money.money_periods(plant, today, period_labels(), since=since, days=every_day)
    billing = periods[1]
    days = [(row, m) for row, m in every_day if row.day.year == today.year]
    context = {
        "plant": plant,
        "tab": "savings",
        "report_months": [today.replace(day=1), reports.previous_month(today)],
        "tariff": tariff,
        "has_tariffs": plant.tariffs.exists(),
        "periods": periods,
        "months": money.monthly(days),
        "years": money.yearly(every_day),
        "days": [(row, m) for row, m in every_day if row.day >= billing.first][::-1],
        "can_edit": _can_edit(request, plant),
    }
    return render(request, "economics/savings.html", context)


def _can_edit(request, plant):
    return type(plant).objects.restrict(request.user, "change").filter(pk=plant.pk).exists()


def savings_header():
    return [
        _("Day"),
        _("Contract"),
        _("Energy not bought (€)"),
        _("Sales (€)"),
        _("Purchases (€)"),
        _("Battery's share (€)"),
        _("Priced"),
    ]


@login_required
@require_safe
def savings_csv(request, pk):
    """The money of each day from ?start to ?end (local days, by default this month), to the cent."""
    plant, first, last, error = asked_range(request, pk, default_start=lambda today: today.replace(day=1))
    if error:
        return error
    days = money.money_by_day(plant, first, last, since=plant.history_since_for(request.user))
    tariffs = list(plant.tariffs.order_by("valid_from"))
    rows = [savings_header()]
    for row, m in days:
        tariff = money.in_force(tariffs, row.day)
        rows.append(
            [
                row.day.isoformat(),
                tariff.get_kind_display() if tariff else "",
                cents(m.not_bought),
                cents(m.export_income),
                cents(m.import_cost),
                cents(m.battery_share),
                _("no") if m.unpriced_days else _("yes"),
            ]
        )
    return csv_download(csv_lines(rows), filename=f"savings-{plant.pk}.csv")


@login_required
def tariffs(request, pk):
    """The plant's tariffs, newest first; its installers add one (a price change is a new one)."""
    plant = get_plant_for_user(request, pk)
    form = None
    if request.method == "POST" or _can_edit(request, plant):
        plant = get_rw_plant_for_user(request, pk)
        latest = plant.tariffs.first()
        initial = {"valid_from": local_today(plant)}
        if latest is not None:  # a price change: start from the contract in force
            initial.update(
                {name: getattr(latest, name) for name in TariffForm.Meta.fields if name != "valid_from"}
            )
        form = TariffForm(request.POST or None, plant=plant, initial=initial)
        if request.method == "POST" and form.is_valid():
            form.instance.created_by = request.user
            try:
                with transaction.atomic():
                    form.save()
            except IntegrityError:  # the same day saved by a second click or a colleague meanwhile
                form.add_error(
                    "valid_from", _("This plant already has a tariff from that day: delete it first.")
                )
                return render(
                    request, "economics/tariffs.html", _tariffs_context(request, plant, form), status=400
                )
            messages.success(
                request,
                _("Tariff saved: the days from %(day)s are valued with it.")
                % {"day": form.instance.valid_from.strftime("%d/%m/%Y")},
            )
            return redirect("economics:tariffs", pk=plant.pk)
    context = _tariffs_context(request, plant, form)
    return render(request, "economics/tariffs.html", context, status=400 if form and form.errors else 200)


def _tariffs_context(request, plant, form):
    return {
        "plant": plant,
        "tab": "savings",
        "tariffs": plant.tariffs.all(),
        "form": form,
        "can_edit": _can_edit(request, plant),
        "schedule": ChargeSchedule.objects.filter(plant=plant).first(),
        "plan": charging.charge_plan(plant=plant, night_of=local_today(plant)),
    }


@login_required
@require_POST
def tariff_delete(request, pk, tariff_pk):
    plant = get_rw_plant_for_user(request, pk)
    get_object_or_404(Tariff, pk=tariff_pk, plant=plant).delete()
    messages.success(request, _("Tariff deleted."))
    return redirect("economics:tariffs", pk=plant.pk)


@login_required
def tempo(request):
    """The Tempo colours around today; the distributor enters a day or imports a file."""
    today = timezone.localdate()
    editable = request.user.is_distributor_admin
    day_form = TempoDayForm(prefix="day")
    import_form = TempoImportForm(prefix="import")
    status = 200
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if "import-file" in request.FILES or "import" in request.POST:
            import_form = TempoImportForm(request.POST, request.FILES, prefix="import")
            if import_form.is_valid():
                count = tempo_days_save(colours=import_form.cleaned_data["file"], by=request.user)
                messages.success(request, _("%(count)s Tempo days imported.") % {"count": count})
                return redirect("economics:tempo")
        else:
            day_form = TempoDayForm(request.POST, prefix="day")
            if day_form.is_valid():
                colours = {day_form.cleaned_data["day"]: day_form.cleaned_data["colour"]}
                tempo_days_save(colours=colours, by=request.user)
                messages.success(request, _("Tempo day saved."))
                return redirect("economics:tempo")
        status = 400
    days = TempoDay.objects.filter(
        day__gte=today - timedelta(days=TEMPO_SHOWN_DAYS), day__lte=today + timedelta(days=1)
    )
    context = {"days": days, "editable": editable, "day_form": day_form, "import_form": import_form}
    return render(request, "economics/tempo.html", context, status=status)


@login_required
@require_safe
def monthly_report(request, pk, month):
    """The monthly report of `month` (YYYY-MM) as PDF, in the reader's language, with what they may
    see of the plant (a new owner: from the hand-over)."""
    plant = get_plant_for_user(request, pk)
    first = _month_or_404(month, today=local_today(plant))
    pdf = reports.monthly_report_pdf(
        plant=plant, month=first, user=request.user, language=translation.get_language()
    )
    return _pdf(pdf, f"aura-{plant.pk}-{month}.pdf")


@login_required
@require_POST
def charge_schedule(request, pk):
    """Opt the plant in or out of tariff-driven grid charging (its installers)."""
    plant = get_rw_plant_for_user(request, pk)
    enabled = request.POST.get("enabled") == "1"
    charging.charge_schedule_enable(plant=plant, by=request.user, enabled=enabled)
    if enabled:
        messages.success(
            request, _("Grid charging follows the tariff from tonight: the portal owns the window.")
        )
    else:
        messages.success(
            request, _("Grid charging no longer follows the tariff: the window is left as it is.")
        )
    return redirect("economics:tariffs", pk=plant.pk)


@company_member_required
@require_safe
def fleet_report(request, month):
    """The fleet's health report of `month` (YYYY-MM) as PDF: the plants this installer sees."""
    first = _month_or_404(month, today=timezone.localdate())
    pdf = reports.fleet_report_pdf(user=request.user, month=first, language=translation.get_language())
    return _pdf(pdf, f"aura-fleet-{month}.pdf")


def _month_or_404(month, *, today):
    """The first day of `month` (YYYY-MM), a month begun by `today`; else a 404."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Http404 from None
    if not FIRST_DAY <= first <= today:
        raise Http404
    return first


def _pdf(content, filename):
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
