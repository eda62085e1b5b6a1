"""The readings CSV, formatted by PostgreSQL (COPY): byte for byte what the Python writer gives for the
same rows, in French and in English, in any time zone, roll-ups and flags included."""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from core.csvexport import local_time
from devices.models import Datalogger, Inverter, Reading, ReadingFlag, ReadingHour
from devices.partitions import five_minute_history_start
from energy.exports import readings_export_build
from energy.models import ReadingsExport

from .conftest import login, make_user
from .readings_reference import python_lines

SLOT = timedelta(minutes=5)


def exported(client, plant, first, last, language):
    url = reverse("energy:readings_csv", args=[plant.pk])
    response = client.get(
        url, {"start": first.isoformat(), "end": last.isoformat()}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def history(plant, day, serial):
    """A day of readings with every kind of value: negatives, zeros, blanks, large counters, all 32
    fault bits, flags, and a serial a spreadsheet would take for a formula."""
    logger = Datalogger.objects.create(
        plant=plant, serial_number=str(2404000000 + plant.pk), host="127.0.0.1"
    )
    inverter = Inverter.objects.create(datalogger=logger, serial_number=serial)
    start = datetime.combine(day, datetime.min.time(), plant.tzinfo)
    for i in range(0, 288, 7):
        Reading.objects.create(
            inverter=inverter,
            slot=start + i * SLOT,
            pv_power=i * 17 if i % 3 else None,
            grid_power=-400 + i,
            battery_power=-1234,
            battery_soc=Decimal("55.5") if i % 2 else Decimal("0"),
            pv_energy_today=Decimal(i) / 10,
            grid_export_today=Decimal("3276.7"),
            fault_bits=2**32 - 1 if i == 14 else 0,
            warning_bits=2**31 if i == 21 else None,
        )
    for counter in ("pv_energy_today", "grid_export_today"):
        ReadingFlag.objects.create(
            inverter=inverter, slot=start + 14 * SLOT, counter=counter, reason="glitch"
        )
    return inverter


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Europe/Paris", "America/St_Johns", "Asia/Kolkata"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_readings_csv_is_byte_for_byte_what_python_wrote(installer, plant, zone, language):
    plant.time_zone = zone
    plant.save()
    day = date(2026, 10, 25)  # the end of summer time in Europe: a 25-hour day
    history(plant, day, "=KS0001")
    client = login(installer)
    with translation.override(language):
        expected = python_lines(plant, day, day + timedelta(days=1))
    got = exported(client, plant, day, day + timedelta(days=1), language)
    assert got == expected
    text = got.decode("utf-8-sig")
    assert "'=KS0001" in text and "4294967295" in text and "2147483648" in text  # neutralised; unsigned
    assert ("+01:00" in text) if zone == "Europe/Paris" else ("-02:30" in text or "+05:30" in text)


@pytest.mark.django_db
def test_hourly_roll_ups_beyond_the_retention_come_first_formatted_alike(installer, plant):
    history_start = five_minute_history_start()
    day = history_start.date() + timedelta(days=1)
    inverter = history(plant, day, "KS0002")
    old = history_start - timedelta(hours=2)
    ReadingHour.objects.create(
        inverter=inverter, hour=old, slots=12, pv_power=1500, battery_soc=Decimal("42.1")
    )
    first = day - timedelta(days=3)
    with translation.override("fr"):
        expected = python_lines(plant, first, day)
    assert exported(login(installer), plant, first, day, "fr") == expected
    assert f"{local_time(old, plant.tzinfo)};KS0002;12;1500;" in expected.decode("utf-8-sig").splitlines()[1]


@pytest.mark.django_db
def test_a_long_export_is_built_in_the_background_and_offered_to_who_asked(
    installer, company, plant, settings, django_capture_on_commit_callbacks
):
    day = date(2026, 10, 25)
    history(plant, day, "KS0003")
    client = login(installer)
    url = reverse("energy:readings_csv", args=[plant.pk])
    asked = {"start": day.isoformat(), "end": day.isoformat()}
    streamed = b"".join(client.get(url, asked).streaming_content)
    settings.EXPORT_BACKGROUND_ROWS = 100  # one inverter's day: 288 rows at most
    with django_capture_on_commit_callbacks(execute=True) as built:
        response = client.get(url, asked)
    assert response.status_code == 302 and len(built) == 1
    page = client.get(response.url)
    assert "Télécharger (CSV)" in page.content.decode()
    (export,) = ReadingsExport.objects.all()
    download = reverse("energy:readings_export_download", args=[plant.pk, export.pk])
    assert b"".join(client.get(download).streaming_content) == streamed  # the same bytes
    with django_capture_on_commit_callbacks(execute=True) as again:
        assert client.get(url, asked).url == response.url  # asked again: the same file, not rebuilt
    assert not again
    colleague = make_user("collegue", User.Role.INSTALLER, company)  # the same company: not theirs
    assert login(colleague).get(download).status_code == 404


@pytest.mark.django_db
def test_an_export_past_its_days_is_no_longer_offered_and_is_purged(installer, plant, settings):
    export = ReadingsExport.objects.create(
        user=installer, plant=plant, first=date(2026, 1, 1), last=date(2026, 12, 31), language="fr"
    )
    readings_export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == ReadingsExport.Status.READY and export.size > 0
    download = reverse("energy:readings_export_download", args=[plant.pk, export.pk])
    assert login(installer).get(download).status_code == 200
    later = export.expires_at + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert login(installer).get(download).status_code == 404
    assert ReadingsExport.purge(now=later) == 1 and not ReadingsExport.objects.exists()


def numbers_of(text, delimiter, decimal):
    """Each data row's SOC and PV-today cells read as numbers by the rules of `decimal` (a French
    spreadsheet reads 55,5; an English one 55.5); ValueError on a cell it would not take."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))
    header, rows = rows[0], rows[1:]
    columns = [i for i, name in enumerate(header) if "(%)" in name or "(kWh)" in name]
    assert columns
    values = []
    for row in rows:
        for i in columns:
            cell = row[i]
            if cell:
                other = "." if decimal == "," else ","
                assert other not in cell, cell
                values.append(float(cell.replace(decimal, ".")))
    return values


@pytest.mark.django_db
def test_french_numbers_have_a_decimal_comma_and_english_ones_a_point(installer, plant):
    day = date(2026, 10, 20)
    history(plant, day, "KS0001")
    client = login(installer)
    french = exported(client, plant, day, day, "fr").decode("utf-8")
    english = exported(client, plant, day, day, "en").decode("utf-8")
    assert 55.5 in numbers_of(french, ";", ",") and "55,5" in french
    assert numbers_of(english, ",", ".") == numbers_of(french, ";", ",")
    daily = client.get(
        reverse("energy:daily_csv", args=[plant.pk]), {"start": day.isoformat(), "end": day.isoformat()},
        HTTP_ACCEPT_LANGUAGE="fr",
    )  # fmt: skip
    assert daily.status_code == 200


@pytest.mark.django_db
def test_a_customers_readings_name_the_inverter_by_its_number_not_its_serial(customer, granted_plant):
    day = date(2026, 10, 20)
    history(granted_plant, day, "KS0001")
    text = exported(login(customer), granted_plant, day, day, "fr").decode("utf-8")
    assert "KS0001" not in text and "Onduleur 1" in text
