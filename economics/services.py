"""Every change to tariffs and the Tempo calendar, and the monthly reports' sending (the views and
tasks only call these)."""

import logging
from collections.abc import Callable
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.mail import send_templated
from plants.models import Plant, PlantGrant

from .models import MonthlyReportSent, TempoDay
from .reports import fleet_report_pdf, monthly_report_context, monthly_report_pdf, previous_month

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
    return previous_month(today)


def monthly_reports_send(*, now: datetime | None = None) -> int:
    """E-mail last month's reports to who asked for them (User.monthly_report), in their language,
    the PDF attached: to a customer, one per plant granted to them; to an installer, their fleet's.
    Returns how many were sent. Each report is claimed in the transaction that sends it: sent once
    however often this runs, and sent at the next run if the mail server refused it. A failure for
    one report does not stop the others."""
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
    sent = sum(_send_plant_report(grant.customer, grant.plant, now) for grant in grants)
    installers = User.objects.filter(
        role=User.Role.INSTALLER, monthly_report=True, is_active=True, company__is_active=True
    ).select_related("company")
    return sent + sum(_send_fleet_report(installer, now) for installer in installers.order_by("pk"))


def _send_plant_report(user: User, plant: Plant, now: datetime) -> bool:
    month = last_month(plant, now)

    def send() -> None:
        pdf = monthly_report_pdf(plant=plant, month=month, user=user, language=user.language)
        send_templated(
            "monthly_report",
            to=user.email,
            context=monthly_report_context(plant=plant, month=month, user=user),
            language=user.language,
            attachments=[(f"aura-{plant.pk}-{month:%Y-%m}.pdf", pdf, "application/pdf")],
        )

    return _claimed_and_sent(user, plant, month, send)


def _send_fleet_report(user: User, now: datetime) -> bool:
    month = previous_month(timezone.localtime(now).date())

    def send() -> None:
        pdf = fleet_report_pdf(user=user, month=month, language=user.language)
        send_templated(
            "fleet_report",
            to=user.email,
            context={"company": user.company, "month": month},
            language=user.language,
            attachments=[(f"aura-fleet-{month:%Y-%m}.pdf", pdf, "application/pdf")],
        )

    return _claimed_and_sent(user, None, month, send)


def _claimed_and_sent(user: User, plant: Plant | None, month: date, send: Callable[[], None]) -> bool:
    try:
        with transaction.atomic():
            _claim, new = MonthlyReportSent.objects.get_or_create(user=user, plant=plant, month=month)
            if new:
                send()
            return new
    except Exception:  # a mail server down: this one goes at the next run, the others now
        log.exception("monthly report of plant %s for user %s not sent", getattr(plant, "pk", None), user.pk)
        return False
