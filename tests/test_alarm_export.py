"""The alarm history CSV, each line written by PostgreSQL: byte for byte what the Python writer gave,
whatever a plant's name or an installer's note holds."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from alarms.models import Alarm
from alarms.views import alarm_export_header
from core.csvexport import csv_lines, local_time
from devices.models import Datalogger, Inverter

from .conftest import login, make_plant

NOTES = [
    "",
    "Fusible changé; client prévenu",
    'Il a dit "demain"',
    "Première ligne\nseconde ligne",
    "retour chariot\r\nWindows",
    "=1+1",
    "-40 °C, virgule, point-virgule;",
    " espaces autour ",
]


def python_lines(alarms):
    """The export as the Python writer wrote it before PostgreSQL did (the reference)."""
    meaning = "code__meaning_en" if translation.get_language() == "en" else "code__meaning_fr"
    rows = [alarm_export_header()]
    for alarm in alarms.select_related("plant", "inverter", "datalogger", "code", "acknowledged_by"):
        tz = ZoneInfo(alarm.plant.time_zone)
        rows.append([
            alarm.plant.name,
            (alarm.inverter.serial_number if alarm.inverter else "") or alarm.datalogger.serial_number,
            alarm.code_id,
            getattr(alarm.code, meaning.removeprefix("code__")),
            local_time(alarm.started_at, tz),
            local_time(alarm.cleared_at, tz),
            alarm.acknowledged_by.username if alarm.acknowledged_by else None,
            alarm.note,
        ])  # fmt: skip
    return "".join(csv_lines(rows)).encode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_alarm_csv_is_byte_for_byte_what_python_wrote(installer, company, language):
    now = timezone.now()
    for i, (name, zone) in enumerate(
        [
            ('Ferme "Les Pins"; nord', "Indian/Reunion"),
            ("@Maison", "America/St_Johns"),
            ("Écluse", "Europe/Paris"),
        ]
    ):
        plant = make_plant(company, name=name, time_zone=zone)
        logger = Datalogger.objects.create(plant=plant, serial_number=str(2406000000 + i), host="127.0.0.1")
        inverter = Inverter.objects.create(datalogger=logger, serial_number=f"-KS{i}")
        for j, note in enumerate(NOTES):
            Alarm.objects.create(
                plant=plant,
                datalogger=logger,
                inverter=None if j % 3 == 0 else inverter,
                code_id="COM" if j % 3 == 0 else "F13",
                started_at=now - timedelta(hours=j, minutes=i),
                cleared_at=None if j < 2 else now - timedelta(minutes=j),  # one open per code
                acknowledged_by=installer if j % 4 == 1 else None,
                note=note,
            )
    client = login(installer)
    response = client.get(reverse("alarms:export"), HTTP_ACCEPT_LANGUAGE=language)
    got = b"".join(response.streaming_content)
    with translation.override(language):
        order = Alarm.objects.restrict(installer, "view").triage_order()
        assert got == python_lines(order)
    assert b'"Ferme ""Les Pins""; nord"' in got and b"'@Maison" in got and b"'-KS" in got
