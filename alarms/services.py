"""Alarm detection from polls, acknowledgement, and who is told.

Detection is idempotent: an alarm opens only where none is open for the same device and code
(a partial unique index enforces it), and clears only an open one. Processing the same poll twice,
as a retried task would, finds nothing left to do the second time.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.mail import send_templated
from devices.messages import Message, define
from devices.models import Datalogger, DeviceStatus, Inverter
from devices.reading import PollResult
from plants.services import photo_add

from .catalogue import (
    COMMUNICATION_LOST,
    CUSTOMER_ALERTS,
    FINDINGS,
    INVERTER_REPLACED,
    INVERTER_SILENT,
    NIGHT_NOISE,
    RULE,
    active_codes,
    raw_word,
)
from .models import (
    Alarm,
    AlarmCode,
    AlarmNote,
    AlarmPolicy,
    Incident,
    MaintenanceWindow,
    Subscription,
    in_working_hours,
)

# Open alarms by (logger id, inverter id or None, code), and the alarms to clear with when.
OpenAlarms = dict[tuple[int, int | None, str], Alarm]
Clearing = list[tuple[Alarm, datetime]]

log = logging.getLogger(__name__)
# A worker that claimed an alarm's e-mail and died leaves the claim; after this long it is taken again.
NOTIFY_LEASE = timedelta(minutes=5)


def alarms_from_poll(items: Iterable[tuple[Datalogger, Inverter | None, PollResult]]) -> list[Alarm]:
    """Open and clear alarms from one batch of poll results: [(logger, inverter | None, result)].
    Returns the alarms it opened; the caller has them notified once its transaction commits.

    1. Communication: "COM" while the logger is offline, "INV" while its stick answers but the
       inverter has not (after as many polls as make a logger offline); each clears once answered.
    2. Codes from the inverter's warning and fault words, when they were read; W04 (PV lost) is
       neither opened nor cleared while it is night at the plant, when many hybrids raise it.
    3. "SWP" on an inverter that replaced another, until an installer confirms or rejects it
       (cleared by those decisions, alarms.receivers).
    """
    loggers = {logger.id for logger, _, _ in items}
    open_alarms = {
        (a.datalogger_id, a.inverter_id, a.code_id): a
        for a in Alarm.objects.filter(datalogger_id__in=loggers, cleared_at__isnull=True)
    }
    to_open: list[Alarm] = []
    to_clear: Clearing = []
    for logger, inverter, result in items:
        _communication_changes(logger, result, open_alarms, to_open, to_clear)  # 1
        if inverter is not None and result.ok:  # asleep or unread: the bits are unknown
            _code_changes(logger, inverter, result, open_alarms, to_open, to_clear)  # 2
        if inverter is not None and inverter.replaces is not None and inverter.replacement_pending:  # 3
            if (logger.id, inverter.id, INVERTER_REPLACED) not in open_alarms:
                to_open.append(
                    Alarm(plant_id=logger.plant_id, datalogger=logger, inverter=inverter,
                          code_id=INVERTER_REPLACED, started_at=result.at,
                          detail=Message(REPLACED, {"old": inverter.replaces.serial_number,
                                                    "new": inverter.serial_number}))
                )  # fmt: skip
    for alarm, at in to_clear:
        Alarm.objects.filter(pk=alarm.pk).clear(at)
    to_open = _reopen_recent(to_open)
    opened = []
    for alarm in to_open:
        try:
            with transaction.atomic():
                alarm.save()
        except IntegrityError:
            continue  # another worker opened the same alarm first
        opened.append(alarm)
    return opened


def _reopen_recent(to_open: list[Alarm]) -> list[Alarm]:
    """A code that cleared and comes back within its company's quiet period is the same incident:
    reopen that alarm (its notification delay counts again from now; one already e-mailed is not
    e-mailed again). Returns the alarms still to open as new ones."""
    if not to_open:
        return to_open
    policies = policies_of({a.datalogger.plant.company_id for a in to_open})

    def quiet(alarm: Alarm) -> timedelta:
        return timedelta(minutes=policies[alarm.datalogger.plant.company_id].quiet_minutes)

    earliest = min(a.started_at - quiet(a) for a in to_open)
    keys = Q()
    for a in to_open:
        keys |= Q(datalogger_id=a.datalogger_id, inverter_id=a.inverter_id, code_id=a.code_id)
    recent = {
        (cleared.datalogger_id, cleared.inverter_id, cleared.code_id): cleared  # the latest wins
        for cleared in Alarm.objects.filter(keys, cleared_at__gte=earliest).order_by("cleared_at")
    }
    still = []
    for alarm in to_open:
        previous = recent.get((alarm.datalogger_id, alarm.inverter_id, alarm.code_id))
        if (
            previous is None
            or previous.plant_id != alarm.plant_id
            or previous.cleared_at < alarm.started_at - quiet(alarm)
        ):
            still.append(alarm)
            continue
        again: dict[str, Any] = {
            "status": Incident.NEW if previous.status == Incident.RESOLVED else previous.status,
            "resolved_at": None,
            "cleared_at": None,
            "raised_at": alarm.started_at,
            "times_raised": F("times_raised") + 1,
        }
        if not previous.emailed:  # never told: it may still be, once it has lasted its delay
            again |= {"notified_at": None, "notify_claimed_at": None}
        Alarm.objects.filter(pk=previous.pk, cleared_at__isnull=False).update(**again)
    return still


def policies_of(company_ids: Iterable[int]) -> dict[int, AlarmPolicy]:
    """Each company's alarm policy, the defaults for a company that has none stored."""
    stored = {p.company_id: p for p in AlarmPolicy.objects.filter(company_id__in=company_ids)}
    return {
        company_id: stored.get(company_id) or AlarmPolicy(company_id=company_id) for company_id in company_ids
    }


def _communication_changes(
    logger: Datalogger, result: PollResult, open_alarms: OpenAlarms, to_open: list[Alarm], to_clear: Clearing
) -> None:
    for code, up in _communication(logger):
        alarm = open_alarms.get((logger.id, None, code))
        if alarm and up is False:
            to_clear.append((alarm, result.at))
        elif up and not alarm:
            to_open.append(
                Alarm(plant_id=logger.plant_id, datalogger=logger, code_id=code, started_at=result.at)
            )


def _code_changes(
    logger: Datalogger,
    inverter: Inverter,
    result: PollResult,
    open_alarms: OpenAlarms,
    to_open: list[Alarm],
    to_clear: Clearing,
) -> None:
    up = active_codes(result.values)
    mine = {
        code: alarm
        for (lg, inv, code), alarm in open_alarms.items()
        if lg == logger.id and inv == inverter.id and code not in (INVERTER_REPLACED, RULE)
    }
    unknown = set()
    if NIGHT_NOISE & (up | set(mine)):
        pv = sum(result.values.get(k) or 0 for k in ("pv1_power", "pv2_power"))
        if logger.plant.is_plausibly_night(result.at, last_pv=pv):
            unknown = NIGHT_NOISE
    to_open += [
        Alarm(
            plant_id=logger.plant_id,
            datalogger=logger,
            inverter=inverter,
            code_id=code,
            started_at=result.at,
            detail=_detail(code, result.values),
        )
        for code in up - unknown - set(mine)
    ]
    to_clear += [(alarm, result.at) for code, alarm in mine.items() if code not in up | unknown]


REPLACED = define("alarm.replaced", gettext_lazy("Inverter %(old)s replaced by %(new)s."))
RAW_WORD = define("alarm.raw_word", gettext_lazy("Raw word read from the inverter: %(word)s."))


def _detail(code: str, values: dict[str, Any]) -> Message | None:
    word = raw_word(code, values)
    return None if word is None else Message(RAW_WORD, {"word": word})


def _communication(logger: Datalogger) -> list[tuple[str, bool | None]]:
    """(code, up) for the logger's two communication alarms: True open, False clear, None leave."""
    silent_long = logger.missed_polls >= settings.DEVICE_OFFLINE_AFTER_MISSED
    answered = logger.status not in (DeviceStatus.OFFLINE, DeviceStatus.NEVER_SEEN)
    return [
        (
            COMMUNICATION_LOST,
            True if logger.status == DeviceStatus.OFFLINE else (False if answered else None),
        ),
        (
            INVERTER_SILENT,
            (silent_long or None)
            if logger.status == DeviceStatus.INVERTER_SILENT
            else (False if answered else None),
        ),
    ]


def alarm_acknowledge(*, alarm: Alarm, by: Any, note: str = "") -> Alarm:
    alarm.acknowledged_by, alarm.acknowledged_at = by, timezone.now()
    if note:
        alarm.note = note
    alarm.save(update_fields=["acknowledged_by", "acknowledged_at", "note"])
    return alarm


def alarm_recipients(alarm: Alarm) -> list[Any]:
    """The active installers of the plant's company who want this kind of alarm by e-mail: faults
    always, warnings and the portal's findings as each person chose."""
    members = alarm.plant.company.members.filter(is_active=True).exclude(email="")
    if alarm.code_id in FINDINGS:
        members = members.filter(email_findings=True)
    elif alarm.code.kind == alarm.code.Kind.WARNING:
        members = members.filter(email_warnings=True)
    if not alarm.plant.company.is_active:
        return []
    return _by_subscription(alarm, list(members.select_related("alarm_subscription")))


def _by_subscription(alarm: Alarm, members: list[Any]) -> list[Any]:
    """Each member's own choice of plants (a tag, a list) and hours. A plant nobody chose still
    reaches everyone (no alarm falls between the lists); outside working hours those who chose them
    are left out (their digest has it)."""
    subscriptions = {
        s.user_id: s for s in Subscription.objects.filter(user__in=members).prefetch_related("plants")
    }
    chosen = [
        m
        for m in members
        if m.pk not in subscriptions
        or subscriptions[m.pk].wants(alarm, {p.pk for p in subscriptions[m.pk].plants.all()})
    ]
    if not chosen:
        chosen = members
    now = timezone.now()
    return [
        m
        for m in chosen
        if m.pk not in subscriptions or not subscriptions[m.pk].working_hours_only or in_working_hours(now)
    ]


def customers_to_alert(alarm: Alarm) -> list[Any]:
    """The plant's customers who asked to be told, when the alarm is one they are told of."""
    if alarm.code.kind != alarm.code.Kind.FAULT and alarm.code_id not in CUSTOMER_ALERTS:
        return []
    grants = alarm.plant.grants.filter(
        accepted_at__isnull=False, customer__is_active=True, customer__alert_me=True
    )
    return [g.customer for g in grants.select_related("customer").exclude(customer__email="")]


def alarm_notify(alarm_id: int) -> bool:
    """E-mail an opened alarm once it has lasted its company's delay, unless the same code on the
    same device was e-mailed lately.

    0. Not yet as old as its delay: nothing now (the outbox comes back to it). Cleared before: done,
       nobody told.
    1. Claim it with a conditional update (a lease: a claim older than NOTIFY_LEASE, left by a
       worker that died, may be taken again), so that two workers never both send it.
    2. Send to the recipients; on a mail failure release the claim and raise, so that the task's
       retry or the outbox sweep sends it later (never silently dropped).
    3. Mark it done, with whether an e-mail went out.
    Returns True when an e-mail was sent.
    """
    now = timezone.now()
    waiting = _waiting(alarm_id, now)
    if waiting is not False:
        return False
    claimable = Q(notify_claimed_at__isnull=True) | Q(notify_claimed_at__lt=now - NOTIFY_LEASE)
    if not Alarm.objects.filter(claimable, pk=alarm_id, notified_at__isnull=True).update(
        notify_claimed_at=now
    ):
        return False  # done already, or another worker holds it
    alarm = Alarm.objects.select_related("plant__company", "code", "inverter", "datalogger").get(pk=alarm_id)
    company = alarm.plant.company_id
    flapping = (
        Alarm.objects.filter(
            datalogger_id=alarm.datalogger_id,
            inverter_id=alarm.inverter_id,
            code_id=alarm.code_id,
            emailed=True,
            notified_at__gte=now - timedelta(minutes=policies_of([company])[company].quiet_minutes),
        )
        .exclude(pk=alarm.pk)
        .exists()
    )
    recipients = [] if flapping else alarm_recipients(alarm)
    customers = [] if flapping else customers_to_alert(alarm)
    try:
        for user in recipients:
            send_templated("alarm_opened", to=user.email, language=user.language, context={"alarm": alarm})
        for user in customers:
            send_templated("alarm_customer", to=user.email, language=user.language, context={"alarm": alarm})
    except Exception:
        log.warning("E-mail of alarm %s failed; it will be retried", alarm_id, exc_info=True)
        Alarm.objects.filter(pk=alarm_id).update(notify_claimed_at=None)
        raise
    Alarm.objects.filter(pk=alarm_id).update(
        notified_at=timezone.now(), emailed=bool(recipients or customers)
    )
    return bool(recipients or customers)


def _waiting(alarm_id: int, now: datetime) -> bool | None:
    """Whether the alarm waits for its delay (True), was cleared before it and is done (None: nobody
    is told), or may be notified now (False)."""
    alarm = (
        Alarm.objects.filter(pk=alarm_id, notified_at__isnull=True)
        .select_related("plant", "code")
        .only(
            "raised_at",
            "started_at",
            "cleared_at",
            "code__kind",
            "code__code",
            "plant__company_id",
            "plant_id",
        )
        .first()
    )
    if alarm is None:
        return None
    delay = policies_of([alarm.plant.company_id])[alarm.plant.company_id].delay_for(
        alarm.code_id, alarm.code.kind
    )
    raised = alarm.raised_at or alarm.started_at
    if alarm.cleared_at is not None and alarm.cleared_at - raised < delay:
        Alarm.objects.filter(pk=alarm_id, notified_at__isnull=True).update(notified_at=now, emailed=False)
        return None
    if MaintenanceWindow.objects.covering(alarm.plant_id, alarm.code_id, raised).exists():
        Alarm.objects.filter(pk=alarm_id, notified_at__isnull=True).update(
            notified_at=now, emailed=False, in_maintenance=True
        )
        return None
    return alarm.cleared_at is None and now - raised < delay


def alarms_pending_notification() -> list[int]:
    """Ids of alarms whose notification has not gone out (the outbox the beat sweeps).

    Only alarms older than a minute: younger ones are being notified by their poll's own task.
    """
    now = timezone.now()
    return list(
        Alarm.objects.filter(notified_at__isnull=True, started_at__lt=now - timedelta(minutes=1))
        .filter(Q(notify_claimed_at__isnull=True) | Q(notify_claimed_at__lt=now - NOTIFY_LEASE))
        .order_by("started_at")
        .values_list("pk", flat=True)[:500]
    )


def maintenance_start(
    *, plant: Any, by: Any, hours: int, code: Any = None, reason: str = ""
) -> MaintenanceWindow:
    """Silence the plant (or one code on it) from now for `hours`."""
    now = timezone.now()
    window = MaintenanceWindow(
        plant=plant, by=by, code=code, reason=reason, starts_at=now, ends_at=now + timedelta(hours=hours)
    )
    window.full_clean()
    window.save()
    return window


def maintenance_end(*, window: MaintenanceWindow) -> None:
    """End a window now (a conditional update: one already over stays as it was)."""
    now = timezone.now()
    MaintenanceWindow.objects.filter(pk=window.pk, ends_at__gt=now).update(ends_at=now)


def incident_update(
    *, alarm: Alarm, by: Any, status: str, assignee: Any = None, resolution: str = ""
) -> None:
    """Take up, assign, resolve or ignore an incident; ignoring needs a reason. Taking it up or
    assigning it acknowledges it."""
    if status == Incident.IGNORED and not resolution.strip():
        raise ValidationError({"resolution": _("Say why the incident is ignored.")})
    if assignee is not None and (assignee.company_id != alarm.plant.company_id or not assignee.is_active):
        raise ValidationError({"assignee": _("Assign a member of the plant's company.")})
    now = timezone.now()
    closed = status in (Incident.RESOLVED, Incident.IGNORED)
    changes: dict[str, Any] = {
        "status": status,
        "assignee": assignee,
        "resolution": resolution.strip() if closed else "",
        "resolved_at": now if closed else None,
    }
    if alarm.acknowledged_at is None:
        changes |= {"acknowledged_by": by, "acknowledged_at": now}
    Alarm.objects.filter(pk=alarm.pk).update(**changes)


def alarm_note_add(
    *, alarm: Alarm, by: Any, text: str, for_customer: bool = False, visit_on: Any = None, upload: Any = None
) -> AlarmNote:
    """A follow-up note, internal or for the customer, optionally a site visit with a photo."""
    note = AlarmNote(alarm=alarm, by=by, text=text.strip(), for_customer=for_customer, visit_on=visit_on)
    note.full_clean(exclude=["photo"])
    if upload is not None:
        note.photo = photo_add(plant=alarm.plant, by=by, upload=upload, caption=str(alarm.code_id))
    note.save()
    return note


RESPONSE_WINDOW = timedelta(days=90)


def response_times(*, company_id: int, now: datetime | None = None) -> dict[str, timedelta | None]:
    """The company's mean time to acknowledge and to resolve its faults and warnings over the last
    90 days (communication alarms and findings resolve by themselves, not by people)."""
    since = (now or timezone.now()) - RESPONSE_WINDOW
    alarms = Alarm.objects.filter(
        plant__company_id=company_id, started_at__gte=since, code__kind__in=["fault", "warning"]
    )
    return alarms.aggregate(
        acknowledge=Avg(F("acknowledged_at") - F("started_at")),
        resolve=Avg(F("resolved_at") - F("started_at"), filter=Q(status=Incident.RESOLVED)),
    )


def alarms_escalate(*, now: datetime | None = None) -> list[int]:
    """Send each fault e-mailed but acknowledged by nobody within its company's escalation delay to
    the company's escalation contact, once (a conditional update claims it). Returns the alarms sent."""
    now = now or timezone.now()
    sent = []
    for policy in AlarmPolicy.objects.filter(escalate_after_minutes__isnull=False).select_related(
        "escalate_to"
    ):
        minutes = policy.escalate_after_minutes
        if minutes is None:  # excluded by the query; said for the type checker
            continue
        # The named person, or every active member when nobody is named.
        contacts = (
            [policy.escalate_to]
            if policy.escalate_to is not None and policy.escalate_to.is_active
            else list(User.objects.filter(company_id=policy.company_id, is_active=True).exclude(email=""))
        )
        due = Alarm.objects.filter(
            plant__company_id=policy.company_id,
            code__kind=AlarmCode.Kind.FAULT,
            emailed=True,
            acknowledged_at__isnull=True,
            cleared_at__isnull=True,
            escalated_at__isnull=True,
            notified_at__lte=now - timedelta(minutes=minutes),
        ).select_related("plant", "code", "inverter", "datalogger")
        for alarm in due:
            if not Alarm.objects.filter(pk=alarm.pk, escalated_at__isnull=True).update(escalated_at=now):
                continue  # another worker sent it
            try:
                for contact in contacts:
                    send_templated(
                        "alarm_escalated",
                        to=contact.email,
                        language=contact.language,
                        context={"alarm": alarm, "minutes": minutes},
                    )
            except Exception:
                # Released: the next run (every minute) sends it; never lost to a mail server's hiccup.
                log.warning("Escalation of alarm %s failed; it will be retried", alarm.pk, exc_info=True)
                Alarm.objects.filter(pk=alarm.pk).update(escalated_at=None)
                continue
            sent.append(alarm.pk)
    return sent


def alarm_digests(*, now: datetime | None = None) -> int:
    """Each installer who asked for it gets the last day of their company's alarms: opened, still
    open, cleared. Returns how many e-mails went out."""
    now = now or timezone.now()
    since = now - timedelta(days=1)
    sent = 0
    readers = User.objects.filter(
        Q(email_digest=True) | Q(alarm_subscription__working_hours_only=True),
        role=User.Role.INSTALLER,
        is_active=True,
        company__is_active=True,
    ).exclude(email="")
    for user in readers.select_related("company"):
        alarms = Alarm.objects.filter(plant__company=user.company, plant__archived_at__isnull=True)
        alarms = alarms.select_related("plant", "code").order_by("severity", "started_at")
        context = {
            "company": user.company,
            "opened": list(alarms.filter(started_at__gte=since)[:100]),
            "still_open": list(alarms.filter(cleared_at__isnull=True, started_at__lt=since)[:100]),
            "cleared": list(alarms.filter(cleared_at__gte=since)[:100]),
        }
        if any(context[k] for k in ("opened", "still_open", "cleared")):
            send_templated("alarm_digest", to=user.email, language=user.language, context=context)
            sent += 1
    return sent
