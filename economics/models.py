"""What a plant's energy is worth: the customer's electricity contract (tariffs, with the dates their
prices apply from) and the national Tempo calendar. The figures are computed by `economics.money`
from the energy's half-hour split (energy.DailyEnergy.half_hours); nothing here is derived data."""

import re
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import RestrictedByPlantQuerySet
from devices.messages import MessageField

MINUTES_PER_DAY = 24 * 60
# A price per kWh, taxes included, in euros: 0 to 10 (a typing error of 100 times a real price
# is refused, not valued).
PRICE = {
    "max_digits": 7,
    "decimal_places": 5,
    "null": True,
    "blank": True,
    "validators": [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(10))],
}
# Tempo's day runs from 06:00 to 06:00 the next morning; its off-peak hours are 22:00-06:00 (RTE,
# EDF's Tempo offer): the night after a red day is still priced as that red day's off-peak hours.
TEMPO_DAY_STARTS = 6 * 60
TEMPO_PEAK_ENDS = 22 * 60
OFF_PEAK_RANGE = re.compile(r"^([01]\d|2[0-3]):([03]0)-([01]\d|2[0-4]):([03]0)$")


def off_peak_minutes(text: str) -> list[tuple[int, int]]:
    """The off-peak hours of a contract as written on the bill ("22:00-06:00", or two ranges such as
    "01:30-07:30, 12:30-14:30"), as (start, end) minutes of the day, each split at midnight. Ranges
    start and end on the hour or half-hour (the meter's own steps) and never overlap."""
    ranges: list[tuple[int, int]] = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        match = OFF_PEAK_RANGE.match(part.replace(" ", ""))
        if match is None:
            raise ValidationError(
                _("“%(range)s” is not a range of hours such as 22:00-06:00 (on the hour or half-hour)."),
                params={"range": part[:20]},
            )
        start = int(match[1]) * 60 + int(match[2])
        end = int(match[3]) * 60 + int(match[4])
        if start == end or end > MINUTES_PER_DAY or (end == MINUTES_PER_DAY and match[4] != "00"):
            raise ValidationError(_("“%(range)s” is empty or ends after 24:00."), params={"range": part})
        ranges += [(start, MINUTES_PER_DAY), (0, end)] if end < start else [(start, end)]
    ranges.sort()
    for (_start, end), (start, _end) in zip(ranges, ranges[1:], strict=False):
        if start < end:
            raise ValidationError(_("The off-peak ranges overlap."))
    return [(start, end) for start, end in ranges if start < end]


class TariffQuerySet(RestrictedByPlantQuerySet):
    def in_force(self, day: date) -> "Tariff | None":
        """The tariff that applies on local `day` (the latest that started by then)."""
        return self.filter(valid_from__lte=day).order_by("-valid_from").first()


class Tariff(models.Model):
    """The plant's electricity contract from `valid_from` (a local day) until the next row's: what a
    kWh bought costs (one price, peak / off-peak, or Tempo's six), what a kWh sold earns, and the day
    the bills start. A price change is a new row: the days before it keep their price."""

    class Kind(models.TextChoices):
        BASE = "base", _("Base")
        PEAK_OFF_PEAK = "peak_off_peak", _("Peak / off-peak hours")
        TEMPO = "tempo", _("Tempo")

    class FeedIn(models.TextChoices):
        NONE = "none", _("No sale")
        SURPLUS = "surplus", _("Surplus sale")
        TOTAL = "total", _("Total sale")

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="tariffs")
    valid_from = models.DateField(_("valid from"))
    kind = models.CharField(_("contract"), max_length=16, choices=Kind.choices, default=Kind.BASE)
    off_peak_hours = models.CharField(
        _("off-peak hours"),
        max_length=60,
        blank=True,
        help_text=_("As on the bill, for example 22:00-06:00 or 01:30-07:30, 12:30-14:30."),
    )
    base_price = models.DecimalField(_("price (€/kWh)"), **PRICE)
    peak_price = models.DecimalField(_("peak hours (€/kWh)"), **PRICE)
    off_peak_price = models.DecimalField(_("off-peak hours (€/kWh)"), **PRICE)
    blue_peak_price = models.DecimalField(_("blue day, peak (€/kWh)"), **PRICE)
    blue_off_peak_price = models.DecimalField(_("blue day, off-peak (€/kWh)"), **PRICE)
    white_peak_price = models.DecimalField(_("white day, peak (€/kWh)"), **PRICE)
    white_off_peak_price = models.DecimalField(_("white day, off-peak (€/kWh)"), **PRICE)
    red_peak_price = models.DecimalField(_("red day, peak (€/kWh)"), **PRICE)
    red_off_peak_price = models.DecimalField(_("red day, off-peak (€/kWh)"), **PRICE)
    feed_in = models.CharField(
        _("sale to the grid"), max_length=8, choices=FeedIn.choices, default=FeedIn.NONE
    )
    feed_in_price = models.DecimalField(_("sale price (€/kWh)"), **PRICE)
    billing_day = models.PositiveSmallIntegerField(
        _("billing day"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("The day of the month the bills start (1 to 28)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TariffQuerySet.as_manager()

    REQUIRED = {
        Kind.BASE: ["base_price"],
        Kind.PEAK_OFF_PEAK: ["peak_price", "off_peak_price", "off_peak_hours"],
        Kind.TEMPO: [
            "blue_peak_price",
            "blue_off_peak_price",
            "white_peak_price",
            "white_off_peak_price",
            "red_peak_price",
            "red_off_peak_price",
        ],
    }

    class Meta:
        ordering = ["-valid_from"]
        constraints = [models.UniqueConstraint(fields=["plant", "valid_from"], name="one_tariff_a_day")]

    def __str__(self):
        return f"{self.plant_id} {self.get_kind_display()} {self.valid_from}"

    def clean(self):
        errors = {
            name: _("Required for this contract.")
            for name in self.REQUIRED.get(self.kind, [])  # an unknown kind is the field's own error
            if getattr(self, name) in (None, "")
        }
        if self.feed_in != self.FeedIn.NONE and self.feed_in_price is None:
            errors["feed_in_price"] = _("Required when energy is sold.")
        if self.kind == self.Kind.PEAK_OFF_PEAK and self.off_peak_hours and "off_peak_hours" not in errors:
            try:
                off_peak_minutes(self.off_peak_hours)
            except ValidationError as error:
                errors["off_peak_hours"] = error.messages[0]
        if errors:
            raise ValidationError(errors)

    @property
    def off_peak_ranges(self) -> list[tuple[int, int]]:
        return off_peak_minutes(self.off_peak_hours)

    def billing_period_start(self, day: date) -> date:
        """The first day of the billing period that holds `day`."""
        start = day.replace(day=self.billing_day)
        if start > day:
            start = (start.replace(day=1) - timedelta(days=1)).replace(day=self.billing_day)
        return start


class TempoColour(models.TextChoices):
    BLUE = "blue", _("Blue")
    WHITE = "white", _("White")
    RED = "red", _("Red")


class TempoDay(models.Model):
    """The colour RTE gave a Tempo day (06:00 to 06:00 the next morning, for the whole of mainland
    France): entered or imported by the distributor, since the portal may run without internet."""

    day = models.DateField(unique=True)
    colour = models.CharField(max_length=5, choices=TempoColour.choices)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]

    def __str__(self):
        return f"{self.day} {self.colour}"


class MonthlyReportSent(models.Model):
    """A monthly report claimed before it is e-mailed (a customer's of one plant, an installer's of
    the fleet: no plant): the beat's task run twice (a retry, two beats) sends it once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    plant = models.ForeignKey("plants.Plant", null=True, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # its first day
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "plant", "month"], name="one_report_a_month", nulls_distinct=False
            )
        ]

    def __str__(self):
        return f"{self.user_id} {self.plant_id} {self.month:%Y-%m}"


class ChargeSchedule(models.Model):
    """A plant's tariff-driven grid charging (economics.charging): opted in by an installer, run each
    evening. `window` is what the portal last confirmed on the inverters (only its enable when it
    left charging off): a window read different from it was changed by someone else."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting for the evening")
        WRITTEN = "written", _("written and read back")
        UNCHANGED = "unchanged", _("already set: nothing written")
        HAND_CHANGED = "hand_changed", _("changed by someone else: not overwritten")
        NOT_CONFIRMED = "not_confirmed", _("not confirmed")
        REFUSED = "refused", _("refused by the inverter")

    plant = models.OneToOneField("plants.Plant", on_delete=models.CASCADE, related_name="charge_schedule")
    enabled = models.BooleanField(default=False)
    enabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    enabled_at = models.DateTimeField(null=True)
    window = models.JSONField(null=True)
    found = models.JSONField(null=True)  # the window read when it was changed by someone else
    night_of = models.DateField(null=True)  # the last night planned
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.WAITING)
    answer = MessageField(null=True, blank=True)  # the inverter's, when not confirmed or refused
    run_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"{self.plant_id} {'on' if self.enabled else 'off'} {self.status}"
