"""Every change to tariffs and the Tempo calendar (the views only call these)."""

from datetime import date

from django.db import transaction

from accounts.models import User

from .models import TempoDay


def tempo_days_save(*, colours: dict[date, str], by: User) -> int:
    """Each day's colour, replacing what was entered before (one statement); returns how many days."""
    with transaction.atomic():
        TempoDay.objects.bulk_create(
            [TempoDay(day=day, colour=colour, updated_by=by) for day, colour in colours.items()],
            update_conflicts=True,
            unique_fields=["day"],
            update_fields=["colour", "updated_by", "updated_at"],
        )
    return len(colours)
