import hashlib
import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import ADMIN, ALARMS, CONTROL, MANAGE, READ, RestrictedByPlantQuerySet
from devices.messages import MessageField

from .delivery import target_problem

PREFIX = "aura_"


class Scope(models.TextChoices):
    READ = READ, _("read")
    ALARMS = ALARMS, _("alarms (acknowledge, notes)")
    CONTROL = CONTROL, _("control (inverter settings)")
    MANAGE = MANAGE, _("manage (plants, customers, commissioning, alarm rules)")
    ADMIN = ADMIN, _("administration (distributor)")


def digest_of(secret: str) -> str:
    """A token is 32 random bytes: a plain SHA-256 is enough to store it (nothing to brute-force),
    and lets a request find its token by one indexed lookup."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Neither revoked nor expired at `now`: a token is refused from that moment, whatever ran."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())

    def restrict(self, user, action="view"):
        """A person's own tokens; nobody else's, the distributor's admin included."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)


class ApiToken(models.Model):
    """A token a person made for a tool: its scopes narrow what the person may do through the API, its
    plants (none: all) narrow what they see. Only its digest is stored; the secret is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=13, editable=False)  # "aura_" and 8 characters, to recognise it
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = ArrayField(models.CharField(max_length=10, choices=Scope.choices))
    plants = models.ManyToManyField("plants.Plant", blank=True, related_name="+", verbose_name=_("plants"))
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(scopes=[]), name="api_token_has_a_scope"),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self):
        return self.revoked_at is None and self.expires_at > timezone.now()

    def scope_labels(self):
        return [Scope(scope).label for scope in self.scopes]


class EventKind(models.TextChoices):
    ALARM_OPENED = "alarm.opened", _("alarm opened")
    ALARM_CLEARED = "alarm.cleared", _("alarm cleared")
    ALARM_ACKNOWLEDGED = "alarm.acknowledged", _("alarm acknowledged")
    ALARM_RESOLVED = "alarm.resolved", _("alarm resolved")
    PLANT_OFFLINE = "plant.offline", _("plant offline")
    PLANT_ONLINE = "plant.online", _("plant online")
    COMMISSIONING_COMPLETED = "commissioning.completed", _("commissioning completed")
    SETTING_CHANGE_EXECUTED = "setting_change.executed", _("setting change executed")
    INVERTER_REPLACED = "inverter.replaced", _("inverter replaced")
    FIRMWARE_CHANGED = "inverter.firmware_changed", _("inverter firmware changed")


# What an end customer's feed and webhooks carry: what their pages show them (no serial numbers, no
# acknowledgement or incident work of the installer's).
CUSTOMER_KINDS = [
    EventKind.ALARM_OPENED,
    EventKind.ALARM_CLEARED,
    EventKind.PLANT_OFFLINE,
    EventKind.PLANT_ONLINE,
    EventKind.COMMISSIONING_COMPLETED,
    EventKind.SETTING_CHANGE_EXECUTED,
]


class EventQuerySet(RestrictedByPlantQuerySet):
    history_field = "occurred_at"  # a new owner sees nothing from before the hand-over

    def restrict(self, user, action="view"):
        """The events of the plants the user sees; an installer's only from while the plant was their
        company's, a customer's only of the kinds their pages show."""
        events = super().restrict(user, action)
        if user.is_authenticated and user.is_installer:
            events = events.filter(company_id=user.company_id)
        if user.is_authenticated and user.is_customer:
            events = events.filter(kind__in=CUSTOMER_KINDS)
        return events

    def after(self, number):
        """The numbered events after `number`, in the feed's order (see `services.events_number`)."""
        return self.filter(number__gt=number).order_by("number")


class Event(models.Model):
    """Something that happened to a plant, for the events feed and the webhooks. Written by database
    triggers (integrations migration 0004), in the transaction of the change itself, whatever code
    made it; never by Python. Numbered after their commit (`services.events_number`): the number is
    the feed's order and the id integrations see. Kept EVENT_DAYS days."""

    number = models.BigIntegerField(null=True, unique=True, editable=False)
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("portal.Company", on_delete=models.CASCADE, related_name="+")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(editable=False)
    data = models.JSONField()

    objects = EventQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["company", "number"], name="event_company_number"),
            models.Index(fields=["id"], condition=Q(number__isnull=True), name="event_to_number"),
        ]

    def __str__(self):
        return f"{self.kind} {self.plant_id} {self.occurred_at:%Y-%m-%d %H:%M}"


class WebhookQuerySet(models.QuerySet):
    def restrict(self, user, action="view"):
        """The company's webhooks for its administrators, a customer's own; nobody else's, the
        distributor's admin included (a webhook carries a secret)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_company_administrator:
            return self.filter(company_id=user.company_id)
        if user.is_customer:
            return self.filter(customer=user)
        return self.none()


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Webhook(models.Model):
    """A URL the portal POSTs each new event to, signed with the webhook's secret: a company's (every
    event of its plants) or an end customer's (their plants' events of the kinds their pages show).
    The secret is kept as it is, since signing needs it; it is shown to the owner only."""

    company = models.ForeignKey("portal.Company", null=True, blank=True, on_delete=models.CASCADE)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(max_length=60, default=new_webhook_secret, editable=False)
    kinds = ArrayField(
        models.CharField(max_length=30, choices=EventKind.choices), blank=True, verbose_name=_("events")
    )  # none: every kind the owner may receive
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The last event queued for it: the next dispatch starts after it (a restart loses nothing).
    last_number = models.BigIntegerField(default=0, editable=False)
    failures = models.PositiveIntegerField(default=0, editable=False)  # failed attempts since a success
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)  # by the portal, for failures

    objects = WebhookQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=True) ^ Q(customer__isnull=True), name="webhook_has_one_owner"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        problem = self.url and target_problem(self.url)
        if problem:
            raise ValidationError({"url": str(problem)})
        if self.customer_id and set(self.kinds) - set(CUSTOMER_KINDS):
            raise ValidationError({"kinds": _("These events are not shown to customers.")})

    def events(self):
        """The events this webhook may carry, whatever the kinds it asked for."""
        if self.customer_id:
            return Event.objects.restrict(self.customer)
        return Event.objects.filter(company_id=self.company_id)


class WebhookDelivery(models.Model):
    """One event (or a test) sent to one webhook: the same body at each attempt, the last attempt's
    answer, and when to try again (none: delivered or given up)."""

    PING = "ping"  # the "send a test event" button's kind

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    number = models.BigIntegerField(null=True)  # the event's number (none for a test)
    kind = models.CharField(max_length=30)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True)
    last_attempt_at = models.DateTimeField(null=True)
    delivered_at = models.DateTimeField(null=True)
    status_code = models.PositiveSmallIntegerField(null=True)  # the last answer's HTTP status
    duration_ms = models.PositiveIntegerField(null=True)
    error = MessageField(null=True)  # why the last attempt failed, for the log

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(next_attempt_at__isnull=False), name="delivery_due"
            ),
            models.Index(fields=["webhook", "-created_at"], name="delivery_log"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "number"], name="one_delivery_per_event"),
        ]

    def __str__(self):
        return f"{self.kind} {self.number or ''} → {self.webhook_id}"

    @property
    def given_up(self):
        return self.delivered_at is None and self.next_attempt_at is None and self.attempts > 0
