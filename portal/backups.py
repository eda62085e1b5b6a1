"""Backups: one dated archive with a consistent PostgreSQL dump and the media files (photos); restore
into an empty database; keep the last BACKUP_KEEP archives.

The dump is PostgreSQL's own (`pg_dump --format=custom`, one snapshot, so every table is as of the
same instant while the portal keeps polling); `pg_restore` brings it back. Both must be the server's
major version or newer (the Docker image installs them; on a host, Debian's postgresql-client).
"""

import os
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

PREFIX = "aura-"
DUMP_NAME = "database.dump"
MEDIA_NAME = "media"


class BackupFailed(Exception):
    """A backup could not be written; the message is the failing tool's own."""


def _libpq_env(database):
    """The libpq variables for a Django database setting (no password on a command line)."""
    env = {**os.environ}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if database.get(key):
            env[var] = str(database[key])
    return env


def backup_create(*, directory=None, now=None):
    """Write aura-YYYYmmdd-HHMMSS.tar.gz (database dump + media) into `directory`; returns its path,
    then removes the archives beyond BACKUP_KEEP."""
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    archive = directory / f"{PREFIX}{stamp}.tar.gz"
    database = settings.DATABASES["default"]
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / DUMP_NAME
        dumped = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", database["NAME"]],
            env=_libpq_env(database),
            capture_output=True,
            text=True,
        )
        if dumped.returncode:
            raise BackupFailed(f"pg_dump failed ({dumped.returncode}): {dumped.stderr.strip()}")
        partial = archive.with_suffix(".partial")
        # The archive holds every user's data: readable by the portal's own user only, from its
        # first byte (created 0600, not chmod-ed after the fact).
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file, tarfile.open(fileobj=file, mode="w:gz") as tar:
            tar.add(dump, arcname=DUMP_NAME)
            media = Path(settings.MEDIA_ROOT)
            if media.is_dir():
                tar.add(media, arcname=MEDIA_NAME)
        partial.rename(archive)  # a half-written archive never looks like a backup
    backups_prune(directory=directory)
    return archive


def backups_prune(*, directory, keep=None):
    keep = settings.BACKUP_KEEP if keep is None else keep
    archives = sorted(Path(directory).glob(f"{PREFIX}*.tar.gz"))
    for old in archives[:-keep] if keep else []:
        old.unlink()


def backup_restore(*, archive):
    """Restore `archive` into the configured database, which must be empty (migrations not run),
    and its media files into MEDIA_ROOT. Refuses anything else, changing nothing."""
    archive = Path(archive)
    if not archive.is_file():
        raise ValidationError(_("No backup at %(path)s.") % {"path": archive})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        if cursor.fetchone()[0]:
            raise ValidationError(_("The database is not empty: restore into a new, empty database."))
    connection.close()
    database = settings.DATABASES["default"]
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive, "r:gz") as tar:
        tar.extractall(work, filter="data")  # no absolute paths, links out of the tree or devices
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={database['NAME']}",
             str(Path(work) / DUMP_NAME)],
            env=_libpq_env(database),
            check=True,
            capture_output=True,
        )  # fmt: skip
        media = Path(work) / MEDIA_NAME
        if media.is_dir():
            target = Path(settings.MEDIA_ROOT)
            target.mkdir(parents=True, exist_ok=True)
            for source in media.rglob("*"):
                destination = target / source.relative_to(media)
                if source.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                elif not destination.exists():
                    destination.write_bytes(source.read_bytes())
