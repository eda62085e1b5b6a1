"""Alarm codes (the guide's catalogue) and the alarms raised on devices."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.scoping import VIEW, RestrictedByPlantQuerySet
from devices.messages import MessageField

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

    objects = AlarmQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["datalogger", "inverter", "code"],
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
        super().save(*args, **kwargs)

    @property
    def device_label(self):
        return str(self.inverter or self.datalogger)
