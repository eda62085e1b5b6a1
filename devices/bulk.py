"""Settings for many plants at once (SettingsJob): a dry run that reads and writes nothing, then a
run that writes each inverter through remote control (devices.remote: its audit rows, its read-back,
its rate limit, the logger's lock), and a cancel that stops the inverters not begun.

Each target is claimed by a conditional update before it is read or written, so a task run twice,
or a cancel at the same moment, never writes an inverter twice or after the cancel."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .messages import Message, define
from .models import Inverter, SettingChange, SettingsJob, SettingsJobTarget
from .registermap import BY_KEY, Group
from .remote import UNREACHABLE, not_reached, setting_changes_apply, setting_changes_request, settings_read
from .transport import SettingRefused, setting_word

MAX_PLANTS = 500
Job, Target = SettingsJob.Status, SettingsJobTarget.State

NOT_IN_SERVICE = define(
    "bulk.not_in_service",
    gettext_lazy("This inverter was replaced or awaits its replacement's confirmation: nothing was sent."),
)
RATE_LIMITED = define(
    "bulk.rate_limited",
    gettext_lazy("Too many changes on this inverter lately (%(n)s in 10 minutes): nothing was sent."),
)


def settings_job_preset_check(preset):
    """{key: error} for the values the register map refuses; commands (restart) are never sent to a
    fleet at once."""
    errors = {}
    for key, value in preset.items():
        register = BY_KEY.get(key)
        if register is None or not register.writable or register.group == Group.COMMAND:
            errors[key] = str(gettext_lazy("Not a setting that can be sent to several plants."))
            continue
        try:
            setting_word(key, value)
        except SettingRefused as e:
            errors[key] = str(e)
    return errors


def settings_job_create(*, by, plants, preset):
    """A job over the in-service inverters of `plants` (the caller restricted them to those `by` may
    change), its targets waiting for the dry run. Refused before anything is stored when the preset
    is empty or not allowed, or the plants too many."""
    if not preset:
        raise ValidationError(gettext_lazy("Choose at least one setting to change."))
    if errors := settings_job_preset_check(preset):
        raise ValidationError(errors)
    plants = list(plants[: MAX_PLANTS + 1])
    if len(plants) > MAX_PLANTS:
        raise ValidationError(
            gettext_lazy("At most %(count)s plants in one job: narrow the filter.") % {"count": MAX_PLANTS}
        )
    inverters = (
        Inverter.objects.counted()
        .filter(datalogger__plant__in=plants, datalogger__archived_at__isnull=True)
        .select_related("datalogger")
        .order_by("pk")
    )
    with transaction.atomic():
        job = SettingsJob.objects.create(company_id=by.company_id, by=by, preset=preset)
        SettingsJobTarget.objects.bulk_create(
            SettingsJobTarget(job=job, plant_id=inverter.datalogger.plant_id, inverter=inverter)
            for inverter in inverters
        )
        if not job.targets.exists():
            raise ValidationError(gettext_lazy("None of these plants has an inverter in service."))
    return job


def settings_job_target_read(*, target_id):
    """The dry run of one inverter: its preset settings read live now; nothing is written."""
    target = SettingsJobTarget.objects.select_related("job", "inverter__datalogger").get(pk=target_id)
    if target.state != Target.READING:
        return target
    try:
        values = settings_read(inverter=target.inverter)
    except UNREACHABLE as e:
        state, current, answer = Target.UNREACHABLE, None, not_reached(e)
    else:
        current = {key: values.get(key) for key in target.job.preset}
        state, answer = (Target.READ if target.job.preset != current else Target.UNCHANGED), None
    SettingsJobTarget.objects.filter(pk=target_id, state=Target.READING).update(
        state=state, current=current, answer=answer
    )
    SettingsJob.objects.filter(pk=target.job_id, status=Job.READING).exclude(
        targets__state=Target.READING
    ).update(status=Job.READY)
    return target


def settings_job_run(*, job, by):
    """Start the run of a dry-run job, the writes made as `by`; returns the targets to write (none
    when it was not ready)."""
    started = SettingsJob.objects.filter(pk=job.pk, status=Job.READY).update(
        status=Job.RUNNING, started_at=timezone.now(), run_by=by
    )
    if not started:
        return []
    ids = list(job.targets.filter(state__in=[Target.READ, Target.UNREACHABLE]).values_list("pk", flat=True))
    if not ids:
        _finish_if_done(job.pk)
    return ids


def settings_job_target_write(*, target_id):
    """Write one inverter of a running job, each setting read back; safe to run twice."""
    claimed = SettingsJobTarget.objects.filter(
        pk=target_id, state__in=[Target.READ, Target.UNREACHABLE], job__status=Job.RUNNING
    ).update(state=Target.WRITING)
    if not claimed:
        return None
    related = ("job__run_by", "inverter__datalogger__plant")
    target = SettingsJobTarget.objects.select_related(*related).get(pk=target_id)
    inverter = target.inverter
    try:
        if inverter.replacement_pending or not inverter.counted:
            raise ValidationError(NOT_IN_SERVICE)
        changes = setting_changes_request(inverter=inverter, by=target.job.run_by, new=target.to_write)
    except ValidationError:
        # The preset was checked when the job was made: what is left is the inverter's state or
        # its rate limit (remote.setting_changes_request).
        code = NOT_IN_SERVICE if inverter.replacement_pending or not inverter.counted else RATE_LIMITED
        state, answer = Target.REFUSED, Message(code, {"n": settings.REMOTE_WRITES_PER_10_MINUTES})
    else:
        target.changes.set(changes)
        outcomes = setting_changes_apply(change_ids=[change.pk for change in changes])
        state, answer = _outcome(outcomes)
    SettingsJobTarget.objects.filter(pk=target_id, state=Target.WRITING).update(state=state, answer=answer)
    _finish_if_done(target.job_id)
    return state


def _outcome(outcomes):
    """The target's state from its changes' outcomes: confirmed when all are, refused when one was
    (with the inverter's answer and the guide's instruction), not confirmed otherwise."""
    for wanted in (SettingChange.Outcome.REFUSED, SettingChange.Outcome.NOT_CONFIRMED):
        for outcome, answer, _old in outcomes:
            if outcome == wanted:
                return Target(wanted), answer
    return Target.CONFIRMED, None


def settings_job_cancel(*, job):
    """Stop the job: the inverters not begun are not written (one being written finishes)."""
    with transaction.atomic():
        stopped = SettingsJob.objects.filter(
            pk=job.pk, status__in=[Job.READING, Job.READY, Job.RUNNING]
        ).update(status=Job.CANCELLED, finished_at=timezone.now())
        if stopped:
            job.targets.filter(state__in=[Target.READING, Target.READ, Target.UNREACHABLE]).update(
                state=Target.CANCELLED
            )
    return bool(stopped)


def _finish_if_done(job_id):
    SettingsJob.objects.filter(pk=job_id, status=Job.RUNNING).exclude(
        targets__state__in=[Target.READ, Target.UNREACHABLE, Target.WRITING]
    ).update(status=Job.DONE, finished_at=timezone.now())
