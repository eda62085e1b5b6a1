"""python manage.py backup: a dated archive of the database and the photos (see portal.backups)."""

from django.core.management.base import BaseCommand, CommandError

from portal.backups import BackupFailed, backup_create


class Command(BaseCommand):
    help = (
        "Write aura-YYYYmmdd-HHMMSS.tar.gz (a consistent PostgreSQL dump and the media files) into "
        "BACKUP_DIR (or --directory), keeping the last BACKUP_KEEP archives. Copy them off the machine."
    )

    def add_arguments(self, parser):
        parser.add_argument("--directory", help="where to write the archive (default: BACKUP_DIR)")

    def handle(self, *args, **opts):
        try:
            archive = backup_create(directory=opts["directory"])
        except BackupFailed as e:
            raise CommandError(str(e)) from None
        self.stdout.write(str(archive))
