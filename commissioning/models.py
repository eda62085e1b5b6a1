"""What the installer recorded while commissioning a plant, and its hand-over reports."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import VIEW, RestrictedByPlantQuerySet
from core.validators import validate_single_line


class Site(models.Model):
    """The figures and reasons the installer enters for the checklist (one row per plant)."""

    plant = models.OneToOneField(
        "plants.Plant", on_delete=models.CASCADE, primary_key=True, related_name="commissioning_site"
    )
    breaker_distance_m = models.DecimalField(
        _("distance between the battery and the main breaker (m)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
    )
    # A grid standard other than EN 50549 passes only with the installer's reason (a plant abroad).
    grid_standard_reason = models.CharField(
        _("why the grid standard is not EN 50549"),
        max_length=300,
        blank=True,
        validators=[validate_single_line],
    )
    # The clamp direction, once proven on a day with grid exchange: the day's evidence restarts at
    # midnight, the proof stays (until a day flags the sign).
    ct_proven_at = models.DateTimeField(null=True, blank=True, editable=False)
    ct_evidence = models.JSONField(default=dict, blank=True, editable=False)
    # An installer who finished on site while only data was still awaited (the first full day, a
    # period with grid exchange): the beat finishes the plant in their name once it has come.
    finish_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    finish_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RestrictedByPlantQuerySet.as_manager()

    def __str__(self):
        return str(self.plant)


class Tick(models.Model):
    """A manual or screen item done (or not applicable, with the reason), by whom and when."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="checklist_ticks")
    item = models.CharField(max_length=40)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(
        _("not done because"), max_length=300, blank=True, validators=[validate_single_line]
    )
    photo = models.ForeignKey(
        "plants.PlantPhoto", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RestrictedByPlantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plant", "item"], name="tick_one_per_item")]
        ordering = ["at"]

    def __str__(self):
        return f"{self.item} @ {self.plant_id}"


def report_path(report, filename):
    return f"reports/{report.plant_id}/{filename}"


class HandoverReportQuerySet(RestrictedByPlantQuerySet):
    history_field = "created_at"  # a report issued before a hand-over is the previous owner's

    def restrict(self, user, action=VIEW):
        """A customer reads the reports of a commissioned plant only (not an installer's draft)."""
        reports = super().restrict(user, action)
        if user.is_authenticated and user.is_customer:
            reports = reports.filter(plant__commissioning_completed_at__isnull=False)
        return reports


class HandoverReport(models.Model):
    """A hand-over report as issued: the PDF and its SHA-256, so that a later copy can be compared."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="handover_reports")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    pdf = models.FileField(upload_to=report_path)
    sha256 = models.CharField(max_length=64)

    objects = HandoverReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.plant_id} {self.created_at:%Y-%m-%d %H:%M} {self.sha256[:12]}"
