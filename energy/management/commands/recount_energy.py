"""python manage.py recount_energy --since 2026-10-01: count the days again from the 5-minute history
(after an upgrade that changed what a day's row holds, such as its half-hour split). Days before the
5-minute history (rolled up into hours) keep their rows: they cannot be counted again."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from devices.partitions import five_minute_history_start
from energy.accounting import REFRESH_BATCH, daily_energy_compute
from plants.models import Plant


class Command(BaseCommand):
    help = "Count each plant's days again from the 5-minute history, from --since to yesterday."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=date.fromisoformat, required=True, help="YYYY-MM-DD")

    def handle(self, *args, since, **opts):
        history = five_minute_history_start()
        if history is None:
            raise CommandError("No 5-minute history.")
        # A day is counted from the hour before it: the first whole day after the history starts.
        first = max(since, history.date() + timedelta(days=1))
        yesterday = timezone.localdate() - timedelta(days=1)
        ids = list(Plant.objects.filter(archived_at__isnull=True).order_by("pk").values_list("pk", flat=True))
        day, rows = first, 0
        while day <= yesterday:
            for i in range(0, len(ids), REFRESH_BATCH):
                plants = Plant.objects.filter(pk__in=ids[i : i + REFRESH_BATCH])
                rows += len(daily_energy_compute(plants=plants, day=day))
            day += timedelta(days=1)
        self.stdout.write(f"{rows} daily rows counted again, {first} to {yesterday}.")
