"""The checklist page (the stepper's last step), its actions, and the hand-over reports."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from devices.models import SettingChange
from plants.models import CommissioningStep, Plant
from plants.shortcuts import get_plant_for_user, get_rw_plant_for_user

from . import services, tasks
from .checks import checklist_of
from .forms import SiteForm, TickForm
from .models import HandoverReport, Site


def _checklist_plant(request, pk):
    """The plant whose checklist the user may read: its company's installers and the distributor;
    never a customer (the checklist is the installer's working paper; the report is theirs)."""
    plant = get_plant_for_user(request, pk)
    if request.user.is_customer:
        raise Http404
    return plant


@login_required
@require_safe
def checklist(request, pk):
    plant = _checklist_plant(request, pk)
    can_edit = Plant.objects.restrict(request.user, "change").filter(pk=pk).exists()
    checklist = services.checklist_refresh(plant=plant) if can_edit else checklist_of(plant)
    site = Site.objects.filter(plant=plant).first() or Site(plant=plant)
    return render(
        request,
        "commissioning/checklist.html",
        {
            "plant": plant,
            "step": CommissioningStep.FINISH,
            "checklist": checklist,
            "missing": checklist.missing(),
            "can_edit": can_edit,
            "site_form": SiteForm(instance=site),
            "tick_form": TickForm(),
            "changes": SettingChange.objects.filter(plant=plant).select_related("by__company")[:10],
            "reports": plant.handover_reports.all()[:5],
            "site": site,
        },
    )


@login_required
@require_POST
def tick(request, pk, item):
    plant = get_rw_plant_for_user(request, pk)
    form = TickForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("reason") or form.errors.get("photo"))
        services.tick_record(
            plant=plant,
            item=item,
            by=request.user,
            reason=form.cleaned_data["reason"],
            upload=form.cleaned_data["photo"] or None,
        )
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    return redirect(f"{_checklist_url(pk)}#{item}")


@login_required
@require_POST
def untick(request, pk, item):
    plant = get_rw_plant_for_user(request, pk)
    services.tick_remove(plant=plant, item=item)
    return redirect(f"{_checklist_url(pk)}#{item}")


@login_required
@require_POST
def site(request, pk):
    plant = get_rw_plant_for_user(request, pk)
    form = SiteForm(request.POST, instance=Site.objects.filter(plant=plant).first() or Site(plant=plant))
    if form.is_valid():
        services.site_update(plant=plant, **form.cleaned_data)
        messages.success(request, _("Saved."))
    else:
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
    return redirect(_checklist_url(pk))


@login_required
@require_POST
def apply_recommendation(request, pk):
    """Write the recommended settings that differ, through the remote-control path (audited, each
    read back), then poll: the settings item then shows what the inverter holds."""
    plant = get_rw_plant_for_user(request, pk)
    try:
        changes = services.recommendation_request(plant=plant, by=request.user)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect(_checklist_url(pk))
    if not changes:
        messages.info(request, _("The inverters already hold the recommended settings."))
        return redirect(_checklist_url(pk))
    loggers = sorted({c.inverter.datalogger_id for c in changes})
    tasks.apply_recommendation.delay_on_commit([c.pk for c in changes], loggers)
    messages.info(request, _("%(n)d change(s) sent; each is read back (see below).") % {"n": len(changes)})
    return redirect(_checklist_url(pk))


@login_required
@require_POST
def finish(request, pk):
    plant = get_rw_plant_for_user(request, pk)
    missing, done = services.commissioning_finish(plant=plant)
    if missing and services.finish_request(plant=plant, by=request.user):
        messages.info(
            request,
            _(
                "Everything on site is done. The portal finishes the commissioning by itself, and "
                "issues the report, once it has: %(items)s."
            )
            % {"items": "; ".join(missing)},
        )
        return redirect(_checklist_url(pk))
    if missing:
        messages.error(
            request, _("Not commissioned yet; missing: %(items)s.") % {"items": "; ".join(missing)}
        )
        return redirect(_checklist_url(pk))
    if done:
        tasks.make_handover_report.delay_on_commit(plant.pk, request.user.pk)
    messages.success(request, _("Commissioning complete. The hand-over report is being issued."))
    return redirect("plants:detail", pk=pk)


@login_required
@require_POST
def report_issue(request, pk):
    plant = get_rw_plant_for_user(request, pk)
    report = services.report_make(plant=plant, by=request.user)
    messages.success(request, _("Report issued; its checksum: %(sha)s") % {"sha": report.sha256})
    return redirect(_checklist_url(pk))


@login_required
@require_safe
def report_file(request, pk, report_pk):
    """A report, for its plant's installers, the distributor, and its customers once commissioned."""
    plant = get_plant_for_user(request, pk)
    report = get_object_or_404(
        HandoverReport.objects.restrict(request.user, "view"), pk=report_pk, plant=plant
    )
    response = FileResponse(
        report.pdf.open("rb"), content_type="application/pdf", filename=report.pdf.name.rsplit("/", 1)[-1]
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _checklist_url(pk):
    return reverse("plants:commission", args=[pk, CommissioningStep.FINISH])
