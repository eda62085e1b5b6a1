"""The hand-over report as PDF (WeasyPrint): what IEC 62446-1 asks a hand-over to document, as far
as the portal knows it — the plant, its devices with serials and firmware, the settings read back,
the automatic checks with their values and times, the checklist with who and when, the photos."""

import base64

from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from devices.models import Inverter, SettingChange
from devices.registermap import BY_KEY, SETTINGS


def _data_uri(photo):
    with photo.thumbnail.open("rb") as f:
        return "data:image/jpeg;base64," + base64.b64encode(f.read()).decode()


def render_pdf(*, plant, checklist, by, at) -> bytes:
    inverters = list(
        Inverter.objects.counted()
        .filter(datalogger__plant=plant, datalogger__archived_at__isnull=True)
        .select_related("live", "datalogger")
        .order_by("serial_number")
    )
    for inverter in inverters:
        inverter.settings_rows = [
            (r.label, r.display(inverter.latest.get(r.key)))
            for r in SETTINGS
            if r.setting.writable and r.key in inverter.latest
        ]
        inverter.grid_standard = BY_KEY["grid_standard"].display(inverter.latest.get("grid_standard"))
    photos = {t.item: _data_uri(t.photo) for t in checklist.ticks.values() if t.photo}
    html = render_to_string(
        "commissioning/report.html",
        {
            "plant": plant,
            "checklist": checklist,
            "inverters": inverters,
            "photos": photos,
            "changes": SettingChange.objects.filter(plant=plant)
            .select_related("by__company")
            .order_by("created_at"),
            "by": by,
            "at": at,
        },
    )
    # Only inline data: the report never fetches a file or an address that user content could name.
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf()
