import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.access import company_member_required, company_settings_required
from core.csvexport import CsvLocalTime, CsvText, csv_delimiter, csv_download, csv_line, csv_lines
from plants.models import Plant
from plants.shortcuts import get_rw_plant_for_user

from . import services, troubleshooting
from .filters import AlarmFilterSet
from .forms import (
    AcknowledgeForm,
    AlarmNoteForm,
    AlarmPolicyForm,
    IncidentForm,
    MaintenanceForm,
    SubscriptionForm,
    ThresholdRuleForm,
)
from .models import Alarm, AlarmCode, AlarmNote, AlarmPolicy, MaintenanceWindow, Subscription, ThresholdRule


def _alarms_for(request):
    """The alarms `request.user` may see, filtered by the request; none when a filter is invalid
    (the form says why)."""
    alarms = Alarm.objects.restrict(request.user, "view").select_related(
        "code", "plant", "inverter", "datalogger"
    )
    filters = AlarmFilterSet(request.GET, queryset=alarms)
    return filters, (filters.qs if filters.is_valid() else alarms.none()).triage_order()


@login_required
@require_safe
def alarm_list(request):
    """The fleet's alarms, or one plant's (its "Alarms" tab) when filtered by plant."""
    filters, alarms = _alarms_for(request)
    page = Paginator(alarms, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    plant = None
    if filters.is_valid() and filters.form.cleaned_data.get("plant"):
        plant = get_object_or_404(
            Plant.objects.restrict(request.user, "view"), pk=filters.form.cleaned_data["plant"]
        )
    return render(
        request,
        "alarms/list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "plant": plant,
            "response_times": services.response_times(company_id=request.user.company_id)
            if request.user.is_installer
            else None,
        },
    )


@login_required
@require_safe
def alarm_export(request):
    """The filtered history as CSV, times in each plant's own time zone."""
    if request.user.is_customer:
        raise PermissionDenied
    _filters, alarms = _alarms_for(request)

    # Each line written by PostgreSQL (core.csvexport.csv_line), every relation joined once: Python
    # passes one string per alarm on.
    delimiter = csv_delimiter()
    meaning = "code__meaning_en" if get_language() == "en" else "code__meaning_fr"
    line = csv_line(
        [
            CsvText("plant__name", delimiter=delimiter),
            CsvText("inverter__serial_number", "datalogger__serial_number", delimiter=delimiter),
            CsvText("code_id", delimiter=delimiter),
            CsvText(meaning, delimiter=delimiter),
            CsvLocalTime("started_at", "plant__time_zone"),
            CsvLocalTime("cleared_at", "plant__time_zone"),
            CsvText("acknowledged_by__username", delimiter=delimiter),
            CsvText("note", delimiter=delimiter),
        ],
        delimiter=delimiter,
    )
    lines = alarms.annotate(line=line).values_list("line", flat=True).iterator(chunk_size=5000)
    return csv_download(itertools.chain(csv_lines([alarm_export_header()]), lines), filename="alarms.csv")


def alarm_export_header():
    return [
        _("Plant"),
        _("Device"),
        _("Code"),
        _("Meaning"),
        _("Started"),
        _("Cleared"),
        _("Acknowledged by"),
        _("Note"),
    ]


@login_required
@require_safe
def alarm_detail(request, pk):
    alarm = get_object_or_404(
        Alarm.objects.restrict(request.user, "view").select_related("code", "plant"), pk=pk
    )
    can_ack = Alarm.objects.restrict(request.user, "change").filter(pk=pk).exists()
    return render(
        request,
        "alarms/detail.html",
        {
            "alarm": alarm,
            "form": AcknowledgeForm(),
            "can_ack": can_ack,
            "incident_form": IncidentForm(alarm=alarm),
            "note_form": AlarmNoteForm(),
            "notes": AlarmNote.objects.restrict(request.user, "view")
            .filter(alarm=alarm)
            .select_related("by", "photo"),
        },
    )


def _changeable_alarm(request, pk):
    alarm = get_object_or_404(Alarm.objects.restrict(request.user, "view").select_related("plant"), pk=pk)
    if not Alarm.objects.restrict(request.user, "change").filter(pk=pk).exists():
        raise PermissionDenied
    return alarm


@login_required
@require_POST
def alarm_incident(request, pk):
    """Take up, assign, resolve or ignore the incident."""
    alarm = _changeable_alarm(request, pk)
    form = IncidentForm(request.POST, alarm=alarm)
    try:
        if not form.is_valid():
            raise ValidationError([str(e) for errors in form.errors.values() for e in errors])
        services.incident_update(alarm=alarm, by=request.user, **form.cleaned_data)
        messages.success(request, _("Incident updated."))
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    return redirect("alarms:detail", pk=pk)


@login_required
@require_POST
def alarm_note(request, pk):
    """A follow-up note (internal or for the customer), a site visit with a photo."""
    alarm = _changeable_alarm(request, pk)
    form = AlarmNoteForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise ValidationError([str(e) for errors in form.errors.values() for e in errors])
        data = form.cleaned_data
        services.alarm_note_add(
            alarm=alarm,
            by=request.user,
            text=data["text"],
            for_customer=data["for_customer"],
            visit_on=data["visit_on"],
            upload=data["photo"] or None,
        )
        messages.success(request, _("Note added."))
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    return redirect("alarms:detail", pk=pk)


@login_required
@require_POST
def alarm_acknowledge(request, pk):
    alarm = get_object_or_404(Alarm.objects.restrict(request.user, "view"), pk=pk)
    if not Alarm.objects.restrict(request.user, "change").filter(pk=pk).exists():
        raise PermissionDenied
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        services.alarm_acknowledge(alarm=alarm, by=request.user, note=form.cleaned_data["note"])
        messages.success(request, _("Alarm acknowledged."))
    return redirect("alarms:detail", pk=pk)


@login_required
@require_safe
def catalogue(request):
    q = request.GET.get("q", "").strip()
    codes = AlarmCode.objects.all()
    if q:
        codes = codes.filter(
            Q(code__icontains=q)
            | Q(meaning_fr__icontains=q)
            | Q(meaning_en__icontains=q)
            | Q(hint_fr__icontains=q)
            | Q(hint_en__icontains=q)
        )
    return render(request, "alarms/catalogue.html", {"codes": codes, "q": q})


@login_required
@require_safe
def stick_leds(request):
    states = dict(troubleshooting.LED_STATES)
    picked = {led: request.GET.get(led) for led in ("net", "com", "ready")}
    diagnosis = None
    if all(v in states for v in picked.values()):
        diagnosis = troubleshooting.diagnose_stick(picked["net"], picked["com"], picked["ready"]) or {}
    return render(
        request,
        "alarms/stick_leds.html",
        {
            "states": troubleshooting.LED_STATES,
            "picked": picked,
            "diagnosis": diagnosis,
            "presses": troubleshooting.BUTTON_PRESSES,
        },
    )


@login_required
@require_safe
def battery_leds(request):
    states = dict(troubleshooting.BATTERY_LED_STATES)
    leds = [request.GET.get(f"led{i}") for i in range(1, 5)]
    mode = request.GET.get("mode")
    band = None
    asked = mode in ("charging", "discharging") and all(v in states for v in leds)
    if asked:
        band = troubleshooting.diagnose_battery(mode == "charging", leds)
    return render(
        request,
        "alarms/battery_leds.html",
        {
            "states": troubleshooting.BATTERY_LED_STATES,
            "leds": leds,
            "mode": mode,
            "asked": asked,
            "band": band,
            "led_numbers": range(1, 5),
        },
    )


@company_settings_required
def alarm_rules(request):
    """The company's alarm rules: notification delays, the quiet period, threshold rules."""
    company = request.user.company
    policy = AlarmPolicy.of(company.pk)
    policy_form = AlarmPolicyForm(request.POST if "policy" in request.POST else None, instance=policy)
    rule_form = ThresholdRuleForm(request.POST if "rule" in request.POST else None, company=company)
    if request.method == "POST":
        form = policy_form if "policy" in request.POST else rule_form
        if form.is_valid():
            form.save()
            messages.success(request, _("Saved."))
            return redirect("alarms:rules")
    return render(
        request,
        "alarms/rules.html",
        {
            "policy_form": policy_form,
            "rule_form": rule_form,
            "rules": ThresholdRule.objects.restrict(request.user).prefetch_related("plants"),
        },
    )


@company_settings_required
@require_POST
def alarm_rule_delete(request, pk):
    rule = get_object_or_404(ThresholdRule.objects.restrict(request.user, "change"), pk=pk)
    rule.delete()
    messages.success(request, _("Rule deleted; its open alarms are closed with it."))
    return redirect("alarms:rules")


@login_required
@require_POST
def maintenance(request, pk):
    """Start a maintenance window on a plant (its installers)."""
    plant = get_rw_plant_for_user(request, pk)
    form = MaintenanceForm(request.POST)
    if form.is_valid():
        services.maintenance_start(plant=plant, by=request.user, **form.cleaned_data)
        messages.success(request, _("Maintenance started: alarms are recorded, nobody is notified."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("plants:detail", pk=pk)


@login_required
@require_POST
def maintenance_end(request, pk, window_pk):
    plant = get_rw_plant_for_user(request, pk)
    window = get_object_or_404(MaintenanceWindow, pk=window_pk, plant=plant)
    services.maintenance_end(window=window)
    messages.success(request, _("Maintenance ended: alarms notify again."))
    return redirect("plants:detail", pk=pk)


@company_member_required
def my_alarm_emails(request):
    """Which plants' alarms this installer is e-mailed, and when."""
    subscription = Subscription.objects.filter(user=request.user).first() or Subscription(user=request.user)
    form = SubscriptionForm(request.POST or None, instance=subscription)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("alarms:my_emails")
    return render(request, "alarms/my_emails.html", {"form": form})
