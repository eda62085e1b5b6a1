"""Actions on API tokens, events and webhooks (`<entity>_<action>`, keyword-only): the only code that
writes them (events are inserted by triggers, numbered here)."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer

from core.mail import send_templated
from plants.models import Plant

from . import delivery
from .models import ApiToken, Event, Scope, Webhook, WebhookDelivery, digest_of, new_secret
from .serializers import EventSerializer

# A token never does more than its user: installers may give any scope but the distributor's, the
# distributor's admin reads and administers, a customer only reads.
SCOPES_OF_ROLE = {
    "installer": [Scope.READ, Scope.ALARMS, Scope.CONTROL, Scope.MANAGE],
    "distributor_admin": [Scope.READ, Scope.ADMIN],
    "customer": [Scope.READ],
}
# Last use is written at most this often per token: a tool polling every few seconds costs no write
# per request.
LAST_USE_PRECISION = timedelta(minutes=1)


def scopes_of(user: Any) -> list[Scope]:
    if user.is_installer and not user.may_change:
        return [Scope.READ]  # a company's viewer
    return SCOPES_OF_ROLE.get(user.role, [])


def api_token_create(
    *,
    user: Any,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime,
    plants: Iterable[Plant] = (),
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once, never stored). Refused: a scope the user's role cannot
    give, an expiry in the past or beyond API_TOKEN_MAX_DAYS, a plant the user does not see."""
    now = now or timezone.now()
    scopes = sorted(set(scopes))
    allowed = scopes_of(user)
    errors: dict[str, list[str]] = {}
    if not scopes:
        errors["scopes"] = [_("Choose at least one scope.")]
    elif any(scope not in allowed for scope in scopes):
        errors["scopes"] = [_("Your account cannot give a token these scopes.")]
    if expires_at <= now:
        errors["expires_at"] = [_("The expiry must be in the future.")]
    elif expires_at > now + timedelta(days=settings.API_TOKEN_MAX_DAYS):
        errors["expires_at"] = [
            _("A token lasts at most %(days)d days.") % {"days": settings.API_TOKEN_MAX_DAYS}
        ]
    plants = list(plants)
    visible = Plant.objects.restrict(user, "view").filter(pk__in=[p.pk for p in plants])
    if visible.count() != len({p.pk for p in plants}):
        errors["plants"] = [_("Choose among the plants you can see.")]
    if errors:
        raise ValidationError(errors)
    secret = new_secret()
    token = ApiToken(
        user=user,
        name=name,
        prefix=secret[:13],
        digest=digest_of(secret),
        scopes=scopes,
        expires_at=expires_at,
        created_at=now,
    )
    token.full_clean(exclude=["digest", "prefix"])
    token.save()
    token.plants.set(plants)
    return token, secret


def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> bool:
    """Refused from now on (the next request, whichever process serves it); False if it already was."""
    now = now or timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])
    return bool(revoked)


def api_token_used(*, token: ApiToken, address: str | None, now: datetime) -> None:
    """Record when and from where the token was last used, at most once per LAST_USE_PRECISION."""
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USE_PRECISION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now, last_used_from=address)


def events_number() -> int:
    """Number the events committed since the last numbering, oldest first; returns how many.

    Why not the id: ids are taken before commit, so a reader past id n could later see a smaller
    id appear (its transaction committed last) and skip it. Numbers are given after commit, by one
    numbering at a time (a transaction-level advisory lock) that commits before the next starts:
    a reader past number n never sees a smaller number appear later. A numbering already running
    is left alone; the events it misses get the next one (docs/architecture/invariants.md,
    "Events")."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('integrations_event_number'))")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            """
            UPDATE integrations_event e SET number = waiting.number
            FROM (SELECT id, nextval('integrations_event_number') AS number
                  FROM (SELECT id FROM integrations_event WHERE number IS NULL ORDER BY id) AS ids) AS waiting
            WHERE e.id = waiting.id
            """
        )
        return cursor.rowcount


# A failed delivery is tried again after 30 s, then twice as late each time, at most 6 h apart.
RETRY_FIRST = timedelta(seconds=30)
RETRY_LONGEST = timedelta(hours=6)
EVENTS_PER_DISPATCH = 500  # per webhook and dispatch: a webhook back after a long gap catches up by steps


def webhook_create(*, user: Any, name: str, url: str, kinds: Iterable[str] = ()) -> Webhook:
    """A webhook of the installer's company or of the customer, made by `user`; it carries the events
    from now on (the feed has the earlier ones)."""
    if not (user.is_company_administrator or user.is_customer):
        raise PermissionDenied(_("Only a company's administrators and customers have webhooks."))
    webhook = Webhook(
        company_id=user.company_id if user.is_installer else None,
        customer=user if user.is_customer else None,
        name=name,
        url=url,
        kinds=list(kinds),
        created_by=user,
    )
    webhook.full_clean()
    with transaction.atomic():
        events_number()
        webhook.last_number = Event.objects.aggregate(last=Max("number"))["last"] or 0
        webhook.save()
    return webhook


def webhook_update(*, webhook: Webhook, name: str, url: str, kinds: Iterable[str]) -> None:
    webhook.name, webhook.url, webhook.kinds = name, url, list(kinds)
    webhook.full_clean()
    Webhook.objects.filter(pk=webhook.pk).update(name=name, url=url, kinds=webhook.kinds)


def webhook_enable(*, webhook: Webhook, enabled: bool) -> None:
    """Switch a webhook on or off; switched on, it delivers what waited (and starts its failure count
    afresh)."""
    Webhook.objects.filter(pk=webhook.pk).update(
        enabled=enabled, disabled_at=None, failures=0, failing_since=None
    )


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()  # its deliveries with it


def webhooks_queue(*, limit: int = EVENTS_PER_DISPATCH) -> int:
    """Queue one delivery of each new event for each enabled webhook; returns how many. Idempotent:
    two dispatchers at once queue each event once (the webhook's row is locked, and a delivery is
    unique per webhook and event)."""
    events_number()
    queued = 0
    bodies: dict[int | None, str] = {}  # an event goes to many webhooks: its JSON is rendered once

    def body(event: Event) -> str:
        if event.number not in bodies:
            bodies[event.number] = JSONRenderer().render(EventSerializer(event).data).decode()
        return bodies[event.number]

    for pk in Webhook.objects.filter(enabled=True).values_list("pk", flat=True):
        with transaction.atomic():
            webhook = Webhook.objects.select_for_update(skip_locked=True).filter(pk=pk, enabled=True).first()
            if webhook is None:
                continue
            page = list(webhook.events().after(webhook.last_number)[:limit])
            if not page:
                continue
            wanted = [event for event in page if not webhook.kinds or event.kind in webhook.kinds]
            WebhookDelivery.objects.bulk_create(
                [
                    WebhookDelivery(
                        webhook=webhook,
                        number=event.number,
                        kind=event.kind,
                        body=body(event),
                        next_attempt_at=timezone.now(),
                    )
                    for event in wanted
                ],
                ignore_conflicts=True,
            )
            Webhook.objects.filter(pk=pk).update(last_number=page[-1].number)
            queued += len(wanted)
    return queued


def webhook_deliveries_due(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    due = WebhookDelivery.objects.filter(next_attempt_at__lte=now or timezone.now(), webhook__enabled=True)
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def webhook_delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Send a due delivery once and record the answer; None if it is not due (delivered, given up,
    its webhook disabled, or another worker sending it now). A worker that dies while sending holds
    it for a lease only: then it is due again (at least once; receivers skip an `id` seen before)."""
    now = now or timezone.now()
    lease = timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS + 30)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, next_attempt_at__lte=now)
        .filter(Q(webhook__enabled=True) | Q(kind=WebhookDelivery.PING))
        .update(next_attempt_at=now + lease)
    )
    if not claimed:
        return None
    sent = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook, body = sent.webhook, sent.body.encode()
    answer = delivery.post(
        url=webhook.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "AURA-Signature": delivery.signature(
                secret=webhook.secret, timestamp=int(now.timestamp()), body=body
            ),
            "AURA-Event": sent.kind,
            "AURA-Delivery": str(sent.pk),
        },
    )
    attempts = sent.attempts + 1
    retry_at = None
    if not answer.ok and sent.kind != WebhookDelivery.PING and attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        retry_at = now + min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_LONGEST)
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        attempts=attempts,
        next_attempt_at=retry_at,
        last_attempt_at=now,
        delivered_at=now if answer.ok else None,
        status_code=answer.status_code,
        duration_ms=answer.duration_ms,
        error=answer.error,
    )
    if sent.kind != WebhookDelivery.PING:
        _webhook_answered(webhook=webhook, ok=answer.ok, now=now)
    sent.refresh_from_db()
    return sent


def _webhook_answered(*, webhook: Webhook, ok: bool, now: datetime) -> None:
    """Keep the webhook's failure count; failing for WEBHOOK_DISABLE_AFTER_HOURS, it is disabled and its
    owner told by e-mail (once: the update is conditional)."""
    if ok:
        Webhook.objects.filter(pk=webhook.pk).exclude(failures=0).update(failures=0, failing_since=None)
        return
    Webhook.objects.filter(pk=webhook.pk).update(
        failures=F("failures") + 1, failing_since=Coalesce(F("failing_since"), Value(now))
    )
    since = now - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    if Webhook.objects.filter(pk=webhook.pk, enabled=True, failing_since__lte=since).update(
        enabled=False, disabled_at=now
    ):
        webhook.refresh_from_db()
        transaction.on_commit(lambda: _tell_disabled(webhook))


def _tell_disabled(webhook: Webhook) -> None:
    context = {"webhook": webhook, "hours": settings.WEBHOOK_DISABLE_AFTER_HOURS}
    customer, company, creator = webhook.customer, webhook.company, webhook.created_by
    recipients = []
    if customer is not None:
        recipients.append((customer.email, customer.language))
    if company is not None:
        recipients.append((company.email, settings.LANGUAGE_CODE))
        if creator and creator.is_active and creator.email.lower() != company.email.lower():
            recipients.append((creator.email, creator.language))
    for email, language in recipients:
        send_templated("webhook_disabled", to=email, context=context, language=language)


def webhook_test(*, webhook: Webhook, now: datetime | None = None) -> WebhookDelivery:
    """Send a test event (kind "ping") at once, enabled or not, and return its delivery."""
    now = now or timezone.now()
    body = JSONRenderer().render(
        {"id": None, "kind": WebhookDelivery.PING, "webhook": webhook.name, "sent_at": now}
    )
    test = WebhookDelivery.objects.create(
        webhook=webhook, kind=WebhookDelivery.PING, body=body.decode(), created_at=now, next_attempt_at=now
    )
    return webhook_delivery_attempt(delivery_id=test.pk, now=now) or test
