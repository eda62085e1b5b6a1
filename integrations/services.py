"""Actions on API tokens (`api_token_<action>`, keyword-only) and on events: the only code that writes
them (events are inserted by triggers, numbered here)."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from plants.models import Plant

from .models import ApiToken, Scope, digest_of, new_secret

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
