"""Every change commissioning makes: the site's figures, ticks, applying the recommended settings,
finishing, and issuing the hand-over report."""

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from devices import remote
from devices.models import Inverter, SettingChange
from plants.models import Plant
from plants.services import photo_add, plant_complete_commissioning

from .checklist import Kind
from .checks import Checklist, checklist_of, settings_differences
from .models import HandoverReport, Site, Tick


def site_update(*, plant: Plant, **fields: object) -> Site:
    """Record the breaker distance or the grid-standard reason (validated as the form does)."""
    site = Site.objects.filter(plant=plant).first() or Site(plant=plant)
    for name, value in fields.items():
        setattr(site, name, value)
    site.full_clean()
    site.save()
    return site


def checklist_refresh(*, plant: Plant) -> Checklist:
    """The plant's checklist now; a clamp direction proven today is remembered (the day's evidence
    restarts at midnight)."""
    checklist = checklist_of(plant)
    ct = checklist.results["auto_ct_direction"]
    if ct.passed and not Site.objects.filter(plant=plant, ct_proven_at__isnull=False).exists():
        Site.objects.update_or_create(
            plant=plant, defaults={"ct_proven_at": timezone.now(), "ct_evidence": {"said": ct.said}}
        )
    return checklist


def tick_record(
    *, plant: Plant, item: str, by: User, reason: str = "", upload: UploadedFile | None = None
) -> Tick:
    """Tick a manual or screen item, with a photo (`upload`, stored as the plant's) or a reason why it
    does not apply; ticked again, the newest tick replaces the earlier one."""
    items = {i.key: i for i in checklist_of(plant).items}
    if item not in items or not items[item].tickable:
        raise ValidationError(_("This item cannot be ticked by hand on this plant."))
    if items[item].kind == Kind.SCREEN and upload is None and not reason.strip():
        raise ValidationError(
            _("A setting made on the inverter's screen is ticked with a photo of the screen, or a reason.")
        )
    tick = Tick(plant=plant, item=item, by=by, reason=reason.strip())
    tick.full_clean(exclude=["photo"], validate_unique=False, validate_constraints=False)
    if upload is not None:
        tick.photo = photo_add(plant=plant, by=by, upload=upload, caption=str(items[item].label)[:200])
    # One tick per item, whoever ticks at the same moment: the last one wins, no duplicate.
    (tick,) = Tick.objects.bulk_create(
        [tick],
        update_conflicts=True,
        unique_fields=["plant", "item"],
        update_fields=["by", "at", "reason", "photo"],
    )
    return tick


def tick_remove(*, plant: Plant, item: str) -> None:
    Tick.objects.filter(plant=plant, item=item).delete()


def recommendation_request(*, plant: Plant, by: User) -> list[SettingChange]:
    """Record the writes that bring each inverter to the recommended settings, from its settings
    read live now: only the registers that differ. The caller has them written once its transaction
    commits (tasks.apply_recommendation). Raises ValidationError when an inverter cannot be read."""
    changes = []
    for inverter in (
        Inverter.objects.counted()
        .filter(datalogger__plant=plant, datalogger__archived_at__isnull=True)
        .select_related("datalogger__plant", "replaces")
    ):
        try:
            now = remote.settings_read(inverter=inverter)
        except remote.UNREACHABLE as e:
            raise ValidationError(
                _("%(sn)s could not be read now: %(why)s")
                % {"sn": inverter.serial_number, "why": str(e) or _("the logger did not answer.")}
            ) from e
        differ = settings_differences(now)
        if differ:
            changes += remote.setting_changes_request(inverter=inverter, by=by, new=differ)
    return changes


def commissioning_finish(*, plant: Plant) -> tuple[list[str], bool]:
    """Call the plant commissioned when nothing is missing. Returns what is missing (then nothing
    is done) and whether this call commissioned it: its caller then issues the hand-over report
    once the transaction commits (tasks.make_handover_report)."""
    missing = checklist_refresh(plant=plant).missing()
    return missing, not missing and plant_complete_commissioning(plant=plant)


def finish_request(*, plant: Plant, by: User) -> bool:
    """The installer finished on site while only data is awaited: remember it, so that
    `finish_when_ready` finishes the plant once the data has come. False when more is missing."""
    if not checklist_of(plant).only_waiting():
        return False
    Site.objects.update_or_create(
        plant=plant, defaults={"finish_requested_at": timezone.now(), "finish_requested_by": by}
    )
    return True


def finish_when_ready() -> list[tuple[int, int]]:
    """Finish the plants whose installer asked to and whose awaited data has come; returns (plant,
    user) pairs to issue a report for. Safe to run twice: a plant is stamped once."""
    done = []
    requested = Site.objects.filter(
        finish_requested_at__isnull=False,
        plant__commissioning_completed_at__isnull=True,
        plant__archived_at__isnull=True,
    ).select_related("plant", "finish_requested_by")
    for site in requested:
        _missing, finished = commissioning_finish(plant=site.plant)
        if finished and site.finish_requested_by is not None:
            done.append((site.plant_id, site.finish_requested_by_id))
    return done


def report_make(*, plant: Plant, by: User) -> HandoverReport:
    """Render the hand-over report now and keep it with its checksum."""
    from .report import render_pdf  # noqa: PLC0415 (WeasyPrint loads its libraries on import)

    pdf = render_pdf(plant=plant, checklist=checklist_refresh(plant=plant), by=by, at=timezone.now())
    sha256 = hashlib.sha256(pdf).hexdigest()
    report = HandoverReport(plant=plant, created_by=by, sha256=sha256)
    report.pdf.save(f"handover-{plant.pk}-{sha256[:12]}.pdf", ContentFile(pdf), save=False)
    report.save()
    return report
