"""python manage.py restore ARCHIVE: bring a backup back into an empty database (see portal.backups)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal.backups import backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup archive into the configured database, which must be new and empty (do not "
        "run migrate first), and its photos into MEDIA_ROOT. Then run migrate (for a newer version)."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")

    def handle(self, *args, **opts):
        try:
            backup_restore(archive=opts["archive"])
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {opts['archive']}."))
