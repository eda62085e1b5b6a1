"""Every change to tariffs and the Tempo calendar, and the monthly reports' sending (the views and
tasks only call these)."""

import logging
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.mail import send_templated
from plants.models import Plant, PlantGrant

from .models import MonthlyReportSent, TempoDay
from .reports import monthly_report_context, monthly_report_pdf

log = logging.getLogger(__name__)


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


def last_month(plant: Plant, now: datetime) -> date:
    """The first day of the month before the plant's current local month."""
    today = timezone.localtime(now, plant.tzinfo).date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def monthly_reports_send(*, now: datetime | None = None) -> int:
    """E-mail last month's report of each plant granted to each customer who asked for it (in their
    language, the PDF attached); returns how many were sent. Each report is claimed in the same
    transaction as its sending: sent once however often this runs, and sent again next time if the
    mail server refused it. A failure for one customer does not stop the others."""
    now = now or timezone.now()
    grants = (
        PlantGrant.objects.filter(
            customer__monthly_report=True,
            customer__is_active=True,
            accepted_at__isnull=False,
            plant__archived_at__isnull=True,
        )
        .select_related("customer", "plant__company")
        .order_by("pk")
    )
    sent = 0
    for grant in grants:
        plant, user = grant.plant, grant.customer
        month = last_month(plant, now)
        try:
            with transaction.atomic():
                claim, new = MonthlyReportSent.objects.get_or_create(user=user, plant=plant, month=month)
                if not new:
                    continue
                pdf = monthly_report_pdf(plant=plant, month=month, user=user, language=user.language)
                send_templated(
                    "monthly_report",
                    to=user.email,
                    context=monthly_report_context(plant=plant, month=month, user=user),
                    language=user.language,
                    attachments=[(f"aura-{plant.pk}-{month:%Y-%m}.pdf", pdf, "application/pdf")],
                )
        except Exception:  # a mail server down: this one is sent at the next run, the others now
            log.exception("monthly report of plant %s for user %s not sent", plant.pk, user.pk)
            continue
        sent += 1
    return sent
