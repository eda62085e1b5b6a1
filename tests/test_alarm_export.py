"""The alarm history CSV, each line written by PostgreSQL: byte for byte what the Python writer gave,
whatever a plant's name or an installer's note holds; in the plants' time zones, the user's language,
with cells a spreadsheet would run neutralised."""

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from alarms.models import Alarm
from alarms.views import alarm_export_header
from core.csvexport import csv_lines, local_time
from devices.models import Datalogger, Inverter
from plants.models import Plant

from .conftest import login, make_plant
from .factories import open_alarm

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


def test_csv_export_gives_the_history_in_the_plants_time_zone(installer, logger, company):
    logger.plant.time_zone = "Indian/Reunion"
    logger.plant.save()
    alarm = open_alarm(logger, "F13", cleared=True)
    response = login(installer).get(reverse("alarms:export"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # French: BOM and semicolons
    header, first = (line.split(";") for line in body.splitlines()[:2])
    assert header[:3] == ["Centrale", "Appareil", "Code"]
    assert first[0] == alarm.plant.name and first[2] == "F13" and first[4].endswith("+04:00")


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(installer, logger):
    Plant.objects.filter(pk=logger.plant.pk).update(name='=HYPERLINK("http://evil")')
    alarm = open_alarm(logger, "F13", cleared=True)
    Alarm.objects.filter(pk=alarm.pk).update(note="@SUM(A1)")
    body = b"".join(login(installer).get(reverse("alarms:export")).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")' and rows[1][-1] == "'@SUM(A1)"


def test_english_csv_is_comma_separated_without_bom(installer, logger):
    installer.language = "en"
    installer.save()
    open_alarm(logger, "F13", cleared=True)
    client = login(installer)
    client.cookies["django_language"] = "en"
    body = b"".join(
        client.get(reverse("alarms:export"), HTTP_ACCEPT_LANGUAGE="en").streaming_content
    ).decode()
    assert body.startswith("Plant,Device,Code")
