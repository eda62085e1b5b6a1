"""Settings for many plants at once: choose plants and a preset, see the dry run, run, cancel."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.access import installer_required
from plants.filters import PlantFilterSet
from plants.models import Plant

from . import bulk, tasks
from .models import SettingsJob, SettingsJobTarget
from .settings_forms import SettingsForm


class PresetForm(SettingsForm):
    """The settings form of one inverter, without its commands (a restart is never sent to a fleet),
    each field left blank to leave the setting as it is."""

    plants = forms.ModelMultipleChoiceField(
        queryset=Plant.objects.none(), widget=forms.CheckboxSelectMultiple, label=gettext_lazy("Plants")
    )

    def __init__(self, *args, plants, **kwargs):
        super().__init__(*args, current={}, **kwargs)
        self.fields["plants"].queryset = plants
        for name in [name for name, field in self.fields.items() if isinstance(field, forms.BooleanField)]:
            del self.fields[name]  # commands

    def changes(self):
        return {key: value for key, value in super().changes().items() if key != "plants"}


def _counts(job):
    return dict(job.targets.order_by().values_list("state").annotate(n=Count("pk")))


@installer_required
def settings_jobs(request):
    """The jobs of this person (of the whole company for its administrators), newest first."""
    jobs = (
        SettingsJob.objects.visible_to(request.user)
        .select_related("by")
        .annotate(
            n_targets=Count("targets"),
            n_confirmed=Count("targets", filter=Q(targets__state=SettingsJobTarget.State.CONFIRMED)),
        )[:50]
    )
    return render(request, "devices/settings_jobs.html", {"jobs": jobs})


@installer_required
def settings_job_new(request):
    """Plants chosen by the plant list's filters (all ticked), a preset; POST makes the job and
    starts its dry run."""
    changeable = Plant.objects.restrict(request.user, "change").order_by("name", "pk")
    filters = PlantFilterSet(request.GET, queryset=changeable)
    shown = filters.qs if filters.is_valid() else changeable.none()
    # The filter's plants are the choices (the form posts to this URL, filters included): a fleet
    # larger than a job is narrowed first, never rendered as thousands of boxes.
    count = shown.count()
    form = PresetForm(request.POST or None, plants=shown, initial={"plants": list(shown[: bulk.MAX_PLANTS])})
    if request.method == "POST" and form.is_valid():
        try:
            job = bulk.settings_job_create(
                by=request.user, plants=form.cleaned_data["plants"], preset=form.changes()
            )
        except ValidationError as e:
            form.add_error(None, e)
        else:
            for target_id in job.targets.values_list("pk", flat=True):
                tasks.read_settings_job_target.delay_on_commit(target_id)
            return redirect("devices:settings_job", pk=job.pk)
    context = {
        "form": form,
        "filters": filters,
        "count": count,
        "limit": bulk.MAX_PLANTS,
    }
    return render(request, "devices/settings_job_new.html", context, status=400 if form.errors else 200)


def _job_for(request, pk):
    return get_object_or_404(SettingsJob.objects.visible_to(request.user).select_related("by"), pk=pk)


@login_required  # anyone else's job is a 404 (SettingsJob.objects.visible_to)
def settings_job(request, pk):
    """The job: the dry run's table (value read → new value, per inverter), then each write's
    outcome; htmx refreshes the table while something is under way."""
    job = _job_for(request, pk)
    targets = job.targets.select_related("plant", "inverter", "job")
    context = {"job": job, "targets": targets, "counts": _counts(job), "Status": SettingsJob.Status}
    return render(request, "devices/settings_job.html", context)  # htmx selects the table (#job-table)


@login_required
@require_POST
def settings_job_run(request, pk):
    job = _job_for(request, pk)
    for target_id in bulk.settings_job_run(job=job, by=request.user):
        tasks.write_settings_job_target.delay_on_commit(target_id)
    return redirect("devices:settings_job", pk=job.pk)


@login_required
@require_POST
def settings_job_cancel(request, pk):
    job = _job_for(request, pk)
    if bulk.settings_job_cancel(job=job):
        messages.success(request, _("Job cancelled: the inverters not begun will not be written."))
    return redirect("devices:settings_job", pk=job.pk)
