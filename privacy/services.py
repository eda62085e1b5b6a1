"""End customers' data rights: a copy of all their data, and the erasure of their account. Each use
is recorded for the distributor (SecurityEvent: who, when)."""

import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import IO, Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import DataExport, SecurityEvent, User
from alarms.models import Alarm
from core.csvexport import csv_lines, local_time
from core.mail import send_templated
from devices.models import SettingChange
from energy import reports
from plants.models import Plant, PlantGrant, PlantPhoto
from plants.signals import plants_changed

# Readings are kept for years: the copy holds them all, spooled to disk beyond this size.
SPOOL_BYTES = 16 * 1024 * 1024


def data_export_request(*, user: User) -> tuple[DataExport, bool]:
    """Ask for a copy of the customer's data, to be built by `data_export_build` (the caller
    enqueues it) and e-mailed as a link. One at a time: returns (the copy, whether it is new); a
    copy still being prepared is the one returned."""
    pending = user.data_exports.filter(status=DataExport.Status.PENDING).first()
    if pending is not None:
        return pending, False
    return DataExport.objects.create(user=user), True


def data_export_build(*, export_id: int) -> None:
    """Build the copy, keep it for DATA_EXPORT_DAYS and e-mail its link. Safe to run twice: a copy
    already built is left as it is."""
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return
    try:
        with translation.override(export.user.language):
            archive = customer_data_export(user=export.user)
        export.file.save(f"{export.token}.zip", File(archive), save=False)
    except Exception:
        export.failed()
        raise
    export.offer(days=settings.DATA_EXPORT_DAYS)
    url = settings.PORTAL_URL + reverse("my_data_download", args=[export.token])
    send_templated(
        "data_export_ready",
        to=export.user.email,
        language=export.user.language,
        context={"url": url, "days": settings.DATA_EXPORT_DAYS, "user": export.user},
    )


def customer_data_export(*, user: User) -> IO[bytes]:
    """A ZIP file (open, at position 0) with the customer's account, their plants and invitations,
    the hand-overs that gave them a plant, and each plant's daily energy, readings, alarms, settings
    log and photos (with their captions) from the moment they may see."""
    archive = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zip_file:
        _write(zip_file, "account.csv", _account_rows(user))
        grants = PlantGrant.objects.filter(customer=user).select_related("plant")
        _write(zip_file, "plants.csv", _plant_rows(grants))
        for plant in Plant.objects.restrict(user, "view"):
            since = plant.history_since_for(user)
            first = date(2000, 1, 1) if since is None else timezone.localdate(since, plant.tzinfo)
            last = timezone.localdate()
            name = slugify(plant.name) or str(plant.pk)
            daily = reports.daily_rows(plant, first, last, reports.daily_header(), since=since)
            _write(zip_file, f"{name}/energy.csv", daily)
            with zip_file.open(f"{name}/readings.csv", "w") as member:
                for line in reports.readings_lines(plant, first, last, since=since, serials=False):
                    member.write(line)
            _write(zip_file, f"{name}/alarms.csv", _alarm_rows(plant, since))
            changes = SettingChange.objects.restrict(user, "view").filter(plant=plant)
            _write(zip_file, f"{name}/settings_log.csv", _setting_rows(changes, plant))
            photos = PlantPhoto.objects.restrict(user, "view").filter(plant=plant)
            rows = list(_photo_rows(zip_file, name, photos, plant))  # the images first, then their list
            _write(zip_file, f"{name}/photos.csv", rows)
        _write(zip_file, "handovers.csv", _handover_rows(user))
    SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.DATA_EXPORTED, by=user, detail=f"customer #{user.pk}"
    )
    archive.seek(0)
    return archive


def _write(zip_file: zipfile.ZipFile, name: str, rows: Iterable[Iterable[Any]]) -> None:
    with zip_file.open(name, "w") as member:
        for line in csv_lines(rows):
            member.write(line.encode("utf-8"))


def _account_rows(user: User) -> Iterator[list[Any]]:
    yield [_("Login"), _("First name"), _("Last name"), _("E-mail"), _("Phone"), _("Language"), _("Joined")]
    yield [user.username, user.first_name, user.last_name, user.email, user.phone, user.language,
           local_time(user.date_joined, timezone.get_current_timezone())]  # fmt: skip


def _plant_rows(grants: Iterable[PlantGrant]) -> Iterator[list[Any]]:
    # An invitation not accepted yet is listed too, with no acceptance date.
    yield [_("Plant"), _("Address"), _("City"), _("Access given"), _("Accepted")]
    tz = timezone.get_current_timezone()
    for g in grants:
        yield [
            g.plant.name,
            g.plant.address,
            g.plant.city,
            local_time(g.created_at, tz),
            local_time(g.accepted_at, tz),
        ]


def _setting_rows(changes: QuerySet[SettingChange], plant: Plant) -> Iterator[list[Any]]:
    yield [_("Time"), _("Change"), _("Old value"), _("New value"), _("Outcome"), _("Answer")]
    for change in changes.select_related("by__company").order_by("created_at"):
        yield [local_time(change.created_at, plant.tzinfo), change.in_words(), change.old_value,
               change.new_value, change.get_outcome_display(), str(change.answer or "")]  # fmt: skip


def _photo_rows(
    zip_file: zipfile.ZipFile, folder: str, photos: Iterable[PlantPhoto], plant: Plant
) -> Iterator[list[Any]]:
    """The photos themselves go into the archive beside the list of their captions."""
    yield [_("File"), _("Caption"), _("Added")]
    for photo in photos:
        arcname = f"{folder}/photos/{photo.pk}.jpg"
        with photo.image.open("rb") as image:
            zip_file.writestr(arcname, image.read())
        yield [arcname, photo.caption, local_time(photo.created_at, plant.tzinfo)]


def _handover_rows(user: User) -> Iterator[list[Any]]:
    """The hand-overs that made the customer a plant's new owner: when, and whether the history came."""
    yield [_("Handed over"), _("Record")]
    tz = timezone.get_current_timezone()
    events = SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PLANT_TRANSFERRED, subject=f"customer #{user.pk}"
    )
    for event in events.order_by("at"):
        yield [local_time(event.at, tz), event.detail]


def _alarm_rows(plant: Plant, since: datetime | None) -> Iterator[list[Any]]:
    yield [_("Code"), _("Meaning"), _("Started"), _("Cleared")]
    alarms = Alarm.objects.filter(plant=plant).select_related("code").order_by("started_at")
    if since is not None:
        alarms = alarms.filter(started_at__gte=since)
    for a in alarms.iterator():
        yield [
            a.code_id,
            a.code.meaning,
            local_time(a.started_at, plant.tzinfo),
            local_time(a.cleared_at, plant.tzinfo),
        ]


def _forget_logins(*, names: Iterable[str]) -> None:
    """django-axes keeps each login attempt's name, address and browser, and the security events
    count failures per login: the erased person's rows go, or lose what names them."""
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username__in=names).delete()
    SecurityEvent.objects.filter(
        kind__in=[SecurityEvent.Kind.LOGIN_FAILED, SecurityEvent.Kind.LOCKED_OUT], subject__in=names
    ).update(subject="", addresses=[], detail="login of an erased account")


@transaction.atomic
def customer_erase(*, user: User) -> None:
    """Erase an end customer's account: their personal data is removed (the account row stays,
    anonymised, so that records keep their shape), their grants are revoked and their sessions end.
    The plants and their technical history stay with the installer."""
    plant_ids = list(user.plant_grants.values_list("plant_id", flat=True))
    user.plant_grants.all().delete()
    for export in user.data_exports.all():  # copies of their data go with the account
        export.file.delete(save=False)
    user.data_exports.all().delete()
    _forget_logins(names={user.username, user.email} - {""})
    user.username = f"erased-{user.pk}"
    user.first_name = user.last_name = user.phone = ""
    user.email = ""
    user.is_active = False
    user.set_unusable_password()  # with is_active off, every session of the account ends (Django
    user.save()  # checks both, and the password's hash, on each request)
    plants_changed.send(sender=PlantGrant, plant_ids=plant_ids)
    SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.ACCOUNT_ERASED, by=user, detail=f"customer #{user.pk}"
    )
