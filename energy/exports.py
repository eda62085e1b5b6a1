"""Readings CSVs too long for one request: built by a Celery task into a file, then downloaded.

The file holds the very bytes the streamed export gives (core.csvexport.copy_lines), in the language
of the person who asked; it is offered to them for EXPORT_DAYS, while they may still see the plant.
"""

import tempfile
from datetime import date

from django.conf import settings
from django.core.files import File
from django.utils import timezone, translation

from devices.models import Inverter
from plants.models import Plant

from . import reports
from .models import ReadingsExport

SLOTS_PER_DAY = 288


def readings_rows_estimate(*, plant: Plant, first: date, last: date) -> int:
    """At most how many rows the export of these days holds: every inverter the plant has had, every
    5-minute slot (one query on the plant's few inverters, none on the history)."""
    inverters = Inverter.objects.filter(datalogger__plant=plant, rejected_at__isnull=True).count()
    return inverters * ((last - first).days + 1) * SLOTS_PER_DAY


def readings_export_request(*, user, plant: Plant, first: date, last: date) -> tuple[ReadingsExport, bool]:
    """The export of these days for this person, to be built by `readings_export_build` (the caller
    enqueues it): (the export, whether it is new). The same one asked again, still being prepared or
    ready, is the one returned."""
    asked = ReadingsExport.objects.filter(user=user, plant=plant, first=first, last=last)
    same = (
        asked.filter(status=ReadingsExport.Status.PENDING).first()
        or asked.filter(status=ReadingsExport.Status.READY, expires_at__gt=timezone.now()).first()
    )
    if same is not None:
        return same, False
    language = translation.get_language() or settings.LANGUAGE_CODE
    return ReadingsExport.objects.create(
        user=user, plant=plant, first=first, last=last, language=language
    ), True


def readings_export_build(*, export_id: int) -> None:
    """Write the file and offer it for EXPORT_DAYS. Safe to run twice: one built is left alone."""
    export = ReadingsExport.objects.select_related("user", "plant").filter(pk=export_id).first()
    if export is None or export.status != ReadingsExport.Status.PENDING:
        return
    since = export.plant.history_since_for(export.user)
    try:
        with translation.override(export.language), tempfile.TemporaryFile() as out:
            serials = not export.user.is_customer
            lines = reports.readings_lines(
                export.plant, export.first, export.last, since=since, serials=serials
            )
            for line in lines:
                out.write(line)
            out.seek(0)
            export.file.save(export.filename, File(out), save=False)
    except Exception:
        export.failed()
        raise
    export.offer(days=settings.EXPORT_DAYS)
