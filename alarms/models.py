"""Alarm codes (the guide's catalogue) and the alarms raised on devices."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.scoping import VIEW, RestrictedByPlantQuerySet
from core.validators import validate_single_line
from devices.messages import MessageField
from devices.registermap import BY_KEY, DERIVED, DERIVED_BY_KEY, REGISTERS, Group
from plants.models import SystemType

from . import catalogue


class AlarmCode(models.Model):
    """One code of the catalogue, kept in step with alarms/catalogue.py after every migrate."""

    class Kind(models.TextChoices):
        FAULT = catalogue.FAULT, _("Fault")
        WARNING = catalogue.WARNING, _("Warning")
        COMMUNICATION = catalogue.COMMUNICATION, _("Communication")

    code = models.CharField(max_length=4, primary_key=True)
    kind = models.CharField(max_length=15, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField()
    meaning_fr = models.CharField(max_length=200)
    meaning_en = models.CharField(max_length=200)
    hint_fr = models.TextField(blank=True)
    hint_en = models.TextField(blank=True)

    class Meta:
        ordering = ["severity", "code"]

    def __str__(self):
        return f"{self.code} {self.meaning}"

    @property
    def meaning(self):
        return self.meaning_en if get_language() == "en" else self.meaning_fr

    @property
    def hint(self):
        return self.hint_en if get_language() == "en" else self.hint_fr

    @property
    def display_code(self):
        """The code as people read it; W29 says it is the guide's misprinted second « W26 »."""
        printed = catalogue.PRINTED_AS.get(self.code)
        if printed:
            return _("%(code)s (printed « %(printed)s » in the guide, unconfirmed)") % {
                "code": self.code,
                "printed": printed,
            }
        return self.code

    @property
    def stops_production(self):
        return self.kind == self.Kind.FAULT


def sync_catalogue(**kwargs):
    for code, fr, en, hint_fr, hint_en in catalogue.ALL_CODES:
        kind = catalogue.kind_of(code)
        AlarmCode.objects.update_or_create(
            code=code,
            defaults={
                "kind": kind,
                "severity": catalogue.SEVERITY[kind],
                "meaning_fr": fr,
                "meaning_en": en,
                "hint_fr": hint_fr,
                "hint_en": hint_en,
            },
        )


class Incident(models.TextChoices):
    """What people do about an alarm, beside whether its code is still up (cleared_at)."""

    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    IGNORED = "ignored", _("Ignored")


class AlarmQuerySet(RestrictedByPlantQuerySet):
    history_field = "started_at"  # an alarm raised before a hand-over is the previous owner's

    def restrict(self, user, action=VIEW):
        """Alarms of the plants `user` may see or change; an end customer sees only the active ones.
        "change" is acknowledging."""
        alarms = super().restrict(user, action)
        return (
            alarms.filter(cleared_at__isnull=True) if user.is_authenticated and user.is_customer else alarms
        )

    def active(self):
        return self.filter(cleared_at__isnull=True)

    def clear(self, at):
        """Clear these open alarms at `at`; an incident nobody took up resolves with them (one someone
        works on stays theirs to close)."""
        return self.filter(cleared_at__isnull=True).update(
            cleared_at=at,
            status=Case(When(status=Incident.NEW, then=Value(Incident.RESOLVED)), default=F("status")),
            resolved_at=Case(When(status=Incident.NEW, then=Value(at)), default=F("resolved_at")),
        )

    def active_counts(self):
        """Active alarms by kind: {"fault": n, "warning": n, "communication": n}."""
        counts = dict.fromkeys(AlarmCode.Kind.values, 0)
        rows = self.active().values("code__kind").annotate(n=models.Count("pk")).order_by()
        counts.update({row["code__kind"]: row["n"] for row in rows})
        return counts

    def triage_order(self):
        """Active first, then by severity, then oldest first among the active."""
        return self.order_by(F("cleared_at").desc(nulls_first=True), "severity", "started_at")


class Alarm(models.Model):
    """A code raised on a device, from its start to its end; one open alarm per device and code."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.PROTECT, related_name="alarms")
    datalogger = models.ForeignKey("devices.Datalogger", on_delete=models.PROTECT, related_name="alarms")
    inverter = models.ForeignKey(
        "devices.Inverter", on_delete=models.PROTECT, null=True, blank=True, related_name="alarms"
    )
    code = models.ForeignKey(AlarmCode, on_delete=models.PROTECT, related_name="alarms")
    # The code's severity, copied when the alarm opens, so that the triage order is one index.
    severity = models.PositiveSmallIntegerField(editable=False)
    started_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    # What the device gave with the code (an unlisted bit's raw word), in the reader's language.
    detail = MessageField(null=True, blank=True)
    # Set once the notification was handled; `emailed` says whether an e-mail actually went out.
    notified_at = models.DateTimeField(null=True, blank=True)
    emailed = models.BooleanField(default=False)
    # The outbox's claim: who sends the e-mail now (see alarms.services.alarm_notify).
    notify_claimed_at = models.DateTimeField(null=True, blank=True)
    # A code that clears and comes back within the company's quiet period reopens this incident:
    # when it was last raised (its notification delay counts from there), and how many times.
    raised_at = models.DateTimeField(null=True, blank=True)
    times_raised = models.PositiveIntegerField(default=1)
    # The incident: its status, who works on it, when and why it was closed.
    status = models.CharField(_("status"), max_length=12, choices=Incident.choices, default=Incident.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(_("why"), max_length=300, blank=True, validators=[validate_single_line])
    # When an unacknowledged fault was sent on to the company's escalation contact (once).
    escalated_at = models.DateTimeField(null=True, blank=True)
    # Raised while someone worked on the plant (a maintenance window): recorded, told to nobody.
    in_maintenance = models.BooleanField(default=False)
    # The threshold rule that opened it (code THR); one open alarm per device, code and rule.
    rule = models.ForeignKey(
        "ThresholdRule", on_delete=models.CASCADE, null=True, blank=True, related_name="alarms"
    )

    objects = AlarmQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["datalogger", "inverter", "code", "rule"],
                condition=Q(cleared_at__isnull=True),
                nulls_distinct=False,
                name="alarm_one_open_per_device_code",
            ),
        ]
        indexes = [
            models.Index(fields=["plant", "-started_at"]),
            models.Index(fields=["-started_at"]),
            # The triage order (active first, by severity, oldest first): the list reads its first page.
            models.Index(
                F("cleared_at").desc(nulls_first=True), "severity", "started_at", name="alarm_triage"
            ),
        ]

    def __str__(self):
        return f"{self.code_id} @ {self.plant}"

    def save(self, *args, **kwargs):
        if self.severity is None:
            self.severity = catalogue.SEVERITY[catalogue.kind_of(self.code_id)]
        if self.raised_at is None:
            self.raised_at = self.started_at
        super().save(*args, **kwargs)

    @property
    def device_label(self):
        return str(self.inverter or self.datalogger)


def default_quiet_minutes():
    return settings.ALARM_QUIET_MINUTES


class AlarmPolicy(models.Model):
    """A company's rules for telling people: how long a code must last before anyone is notified
    (by kind, or per code), and how soon a code that clears and comes back is the same incident.
    A company without a row has the defaults, right for AURA plants."""

    company = models.OneToOneField(
        "portal.Company", on_delete=models.CASCADE, primary_key=True, related_name="alarm_policy"
    )
    fault_delay_minutes = models.PositiveIntegerField(
        _("faults: notify after (minutes)"), default=0, validators=[MaxValueValidator(24 * 60)]
    )
    warning_delay_minutes = models.PositiveIntegerField(
        _("warnings: notify after (minutes)"), default=10, validators=[MaxValueValidator(24 * 60)]
    )
    communication_delay_minutes = models.PositiveIntegerField(
        _("communication: notify after (minutes)"), default=0, validators=[MaxValueValidator(24 * 60)]
    )
    # {code: minutes}: a code's own delay, over its kind's.
    code_delays = models.JSONField(_("per-code delays (minutes)"), default=dict, blank=True)
    quiet_minutes = models.PositiveIntegerField(
        _("a code back within (minutes) is the same incident"),
        default=default_quiet_minutes,
        validators=[MaxValueValidator(7 * 24 * 60)],
    )

    # A fault nobody acknowledged this long after its e-mail goes to this person too, or to every
    # member when nobody is named (off when no delay is set).
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate an unacknowledged fault after (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)],
    )
    escalate_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalate to (empty: every member)"),
    )

    def __str__(self):
        return f"{self.company_id}"

    @classmethod
    def of(cls, company_id):
        return cls.objects.filter(company_id=company_id).first() or cls(company_id=company_id)

    def delay_for(self, code, kind):
        """How long `code` must last before it is notified."""
        minutes = self.code_delays.get(code)
        if minutes is None and code == catalogue.RULE:
            minutes = 0  # a rule's own duration is its delay
        if minutes is None:
            minutes = {
                AlarmCode.Kind.FAULT: self.fault_delay_minutes,
                AlarmCode.Kind.WARNING: self.warning_delay_minutes,
            }.get(kind, self.communication_delay_minutes)
        return timedelta(minutes=minutes)

    def clean(self):
        error = code_delays_error(self.code_delays)
        if error:
            raise ValidationError({"code_delays": error})
        if self.escalate_to_id and (
            self.escalate_to.company_id != self.company_id or not self.escalate_to.is_active
        ):
            raise ValidationError({"escalate_to": _("Escalate to an active member of the company.")})


def code_delays_error(delays):
    """Why `delays` ({code: minutes}) cannot be a policy's per-code delays, or None."""
    if not isinstance(delays, dict):
        return _("A mapping of codes to minutes.")
    known = set(AlarmCode.objects.filter(code__in=[str(c) for c in delays]).values_list("code", flat=True))
    for code, minutes in delays.items():
        if code not in known:
            return _("Unknown code: %(code)s.") % {"code": str(code)[:10]}
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= 24 * 60:
            return _("%(code)s: a whole number of minutes, 0 to 1440.") % {"code": code}
    return None


class Comparison(models.TextChoices):
    BELOW = "below", _("below")
    ABOVE = "above", _("above")


def rule_value_choices():
    """The live values a rule may watch: every live register and sum of the register map with a unit."""
    items = [*DERIVED, *(r for r in REGISTERS if r.group == Group.LIVE and r.unit and not r.setting)]
    return [(item.key, f"{item.label} ({item.unit})") for item in items]


class ThresholdRuleQuerySet(models.QuerySet):
    def restrict(self, user, action=VIEW):
        """A company's rules, for its installers; changed by those who change and see all its plants."""
        if not user.is_authenticated or not user.is_installer:
            return self.none()
        if action != VIEW and not user.may_change_company_settings:
            return self.none()
        return self.filter(company_id=user.company_id)


class ThresholdRule(models.Model):
    """An alarm when a live value stays beyond a threshold for a while (battery SOC below 15 % for
    30 minutes), on all of a company's plants or those of one system type or a list."""

    company = models.ForeignKey("portal.Company", on_delete=models.CASCADE, related_name="threshold_rules")
    name = models.CharField(_("name"), max_length=100, validators=[validate_single_line])
    value = models.CharField(_("value"), max_length=40, choices=rule_value_choices)
    comparison = models.CharField(_("when"), max_length=5, choices=Comparison.choices)
    threshold = models.FloatField(
        _("threshold"), validators=[MinValueValidator(-1e6), MaxValueValidator(1e7)]
    )
    minutes = models.PositiveIntegerField(
        _("for at least (minutes)"), default=10, validators=[MaxValueValidator(7 * 24 * 60)]
    )
    system_type = models.CharField(
        _("only plants of type"), max_length=20, blank=True, choices=SystemType.choices
    )
    tag = models.CharField(_("only plants with the tag"), max_length=40, blank=True)
    plants = models.ManyToManyField(
        "plants.Plant", blank=True, related_name="+", verbose_name=_("only these plants")
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ThresholdRuleQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    @property
    def unit(self):
        item = BY_KEY.get(self.value) or DERIVED_BY_KEY.get(self.value)
        return item.unit if item else ""

    def crossed(self, live):
        """Whether `live` (an inverter's decoded values) is beyond the threshold; None when unread."""
        value = live.get(self.value)
        if value is None:
            return None
        return value < self.threshold if self.comparison == Comparison.BELOW else value > self.threshold

    def in_words(self):
        label = dict(rule_value_choices()).get(self.value, self.value)
        return _("%(value)s %(comparison)s %(threshold)s for %(minutes)s min") % {
            "value": label,
            "comparison": self.get_comparison_display(),
            "threshold": number_format(
                int(self.threshold) if self.threshold.is_integer() else self.threshold
            ),
            "minutes": self.minutes,
        }


class RuleState(models.Model):
    """Since when an inverter's value has been beyond a rule's threshold, or in a built-in check's
    condition (`builtin`: a code, for a rule of the portal's own such as P02); gone once it is not."""

    rule = models.ForeignKey(ThresholdRule, on_delete=models.CASCADE, related_name="+", null=True)
    builtin = models.CharField(max_length=4, blank=True)
    inverter = models.ForeignKey("devices.Inverter", on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "builtin", "inverter"], nulls_distinct=False, name="rule_state_unique"
            )
        ]

    def __str__(self):
        return f"{self.rule_id} / {self.inverter_id} since {self.since:%Y-%m-%d %H:%M}"


class MaintenanceWindowQuerySet(RestrictedByPlantQuerySet):
    def covering(self, plant_id, code, at):
        """The windows of `plant_id` that silence `code` at `at`."""
        return self.filter(plant_id=plant_id, starts_at__lte=at, ends_at__gt=at).filter(
            Q(code__isnull=True) | Q(code_id=code)
        )


class MaintenanceWindow(models.Model):
    """A plant (or one code on it) silenced while someone works on it: its alarms are still recorded,
    marked "during maintenance", and notify nobody."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="maintenance_windows")
    code = models.ForeignKey(
        AlarmCode,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only this code"),
    )
    starts_at = models.DateTimeField(_("from"), default=timezone.now)
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True, validators=[validate_single_line])
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["plant", "ends_at"])]

    def __str__(self):
        return f"{self.plant_id} {self.starts_at:%Y-%m-%d %H:%M} → {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must come after the start.")})
        if self.ends_at and self.starts_at and self.ends_at - self.starts_at > timedelta(days=31):
            raise ValidationError({"ends_at": _("At most 31 days: a longer silence hides real faults.")})


class AlarmNoteQuerySet(RestrictedByPlantQuerySet):
    plant_path = "alarm__plant"

    def restrict(self, user, action=VIEW):
        """A customer reads only the notes written for them, never the internal ones."""
        notes = super().restrict(user, action)
        return notes.filter(for_customer=True) if user.is_authenticated and user.is_customer else notes


class AlarmNote(models.Model):
    """A follow-up on an incident, at any time: internal (installers) or for the customer; a site
    visit with its date and a photo."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="notes")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField(_("note"), max_length=4000)
    for_customer = models.BooleanField(_("for the customer"), default=False)
    visit_on = models.DateField(_("site visit on"), null=True, blank=True)
    photo = models.ForeignKey(
        "plants.PlantPhoto", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AlarmNoteQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.alarm_id} @ {self.at:%Y-%m-%d %H:%M}"


class Subscription(models.Model):
    """Which plants' alarms an installer is e-mailed, and when: all (no row), a tag, a list; always
    or in working hours only (the rest waits for their daily digest)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="alarm_subscription",
    )
    tag = models.CharField(_("only plants with the tag"), max_length=40, blank=True)
    plants = models.ManyToManyField(
        "plants.Plant", blank=True, related_name="+", verbose_name=_("only these plants")
    )
    working_hours_only = models.BooleanField(
        _("only in working hours"),
        default=False,
        help_text=_("Monday to Friday, 8:00 to 18:00; what opens outside is in the next daily digest."),
    )

    def __str__(self):
        return str(self.user_id)

    def wants(self, alarm, plant_ids):
        """Whether this person is e-mailed `alarm` by its plant (`plant_ids`: their list)."""
        return (not self.tag or self.tag in alarm.plant.tags) and (
            not plant_ids or alarm.plant_id in plant_ids
        )


def in_working_hours(moment):
    local = timezone.localtime(moment)
    return local.weekday() < 5 and 8 <= local.hour < 18
