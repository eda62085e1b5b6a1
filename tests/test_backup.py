"""Backups: a seeded portal backed up, restored into a fresh database by the real command, has the
same plants, readings, alarms, photos and users; a non-empty database is refused; old archives go."""

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from alarms.models import Alarm
from devices.models import Datalogger, Reading
from plants.models import PlantGrant
from plants.services import photo_add
from portal.backups import backup_create

ROOT = Path(__file__).resolve().parents[1]
RESTORED = "aura_restore_test"
TABLES = [
    "plants_plant",
    "devices_reading",
    "alarms_alarm",
    "plants_plantphoto",
    "portal_user",
    "plants_plantgrant",
]

pytestmark = pytest.mark.slow  # tests/README.md: other processes


def _url(name):
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{name}"


def _counts(url):
    with psycopg.connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


@pytest.fixture
def fresh_database():
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {RESTORED}")
        conn.execute(f"CREATE DATABASE {RESTORED}")
    yield _url(RESTORED)
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {RESTORED} WITH (FORCE)")


def restore(archive, url, media):
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(media)},
        capture_output=True, text=True,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_backup_comes_back_whole_in_a_fresh_database(
    settings, tmp_path, plant, installer, customer, fresh_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    PlantGrant.objects.create(
        plant=plant, customer=customer, granted_by=installer, accepted_at=timezone.now()
    )
    logger = Datalogger.objects.create(plant=plant, serial_number="2401000099", host="127.0.0.1")
    inverter = logger.inverters.create(serial_number="KS0099")
    for minute in range(0, 15, 5):
        Reading.objects.create(
            inverter=inverter, slot=datetime(2026, 6, 1, 12, minute, tzinfo=UTC), pv_power=minute
        )
    Alarm.objects.create(
        plant=plant, datalogger=logger, inverter=inverter, code_id="F13", started_at=timezone.now()
    )
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(buffer, "PNG")
    photo = photo_add(plant=plant, by=installer, upload=SimpleUploadedFile("toit.png", buffer.getvalue()))

    archive = backup_create(directory=tmp_path / "backups")
    assert archive.name.startswith("aura-") and archive.name.endswith(".tar.gz")

    media = tmp_path / "restored-media"
    result = restore(archive, fresh_database, media)
    assert result.returncode == 0, result.stderr
    assert _counts(fresh_database) == _counts(_url(settings.DATABASES["default"]["NAME"]))
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("SELECT name FROM plants_plant").fetchone()[0] == plant.name
    restored_photo = media / photo.image.name
    assert restored_photo.read_bytes() == (settings.MEDIA_ROOT / photo.image.name).read_bytes()

    again = restore(archive, fresh_database, media)  # the database is not empty any more
    assert again.returncode != 0 and "pas vide" in again.stderr


def test_only_the_last_archives_are_kept(settings, tmp_path, db):
    settings.BACKUP_KEEP = 2
    for day in (1, 2, 3):
        backup_create(directory=tmp_path, now=datetime(2026, 6, day, tzinfo=UTC))
    assert sorted(p.name for p in tmp_path.glob("aura-*")) == [
        "aura-20260602-000000.tar.gz",
        "aura-20260603-000000.tar.gz",
    ]


def test_an_archive_is_readable_by_the_portal_user_only(tmp_path, db):
    archive = backup_create(directory=tmp_path / "new")
    assert archive.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700


def test_a_failing_dump_says_why(tmp_path, db):
    result = subprocess.run(
        [sys.executable, "manage.py", "backup", "--directory", str(tmp_path)],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": _url("aura_no_such_database")},
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert "pg_dump failed" in result.stderr and "aura_no_such_database" in result.stderr
    assert not list(tmp_path.glob("aura-*"))
