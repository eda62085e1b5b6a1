"""Energy per plant and per local day: what the dashboards, charts, exports and fleet totals read.

Rows are derived from the history (devices.Reading) by `energy.accounting` and can be recomputed at
any time; no page scans raw readings over more than one day.
"""

from django.db import models
from django.db.models import Sum
from django.db.models.functions import TruncMonth, TruncYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.scoping import RestrictedByPlantQuerySet

# Energy flows, in the order pages and exports show them; each is a column `<flow>_wh`.
FLOWS = {
    "production": _("Production"),
    "consumption": _("Consumption"),
    "grid_export": _("Grid export"),
    "grid_import": _("Grid import"),
    "battery_charge": _("Battery charge"),
    "battery_discharge": _("Battery discharge"),
}
WH_FIELDS = [f"{flow}_wh" for flow in FLOWS]


class DailyEnergyQuerySet(RestrictedByPlantQuerySet):
    def totals(self):
        """Sum of every flow over the rows, in Wh (0 where there is no row)."""
        sums = self.aggregate(**{f: Sum(f) for f in WH_FIELDS})
        return {f: sums[f] or 0 for f in WH_FIELDS}

    def by_period(self, period):
        """Rows summed per month ("month") or per year ("year"), oldest first: one GROUP BY over
        daily rows (at most 366 a year), never over readings."""
        trunc = {"month": TruncMonth, "year": TruncYear}[period]
        return (
            self.annotate(period=trunc("day"))
            .values("period")
            .annotate(
                **{f: Sum(f) for f in WH_FIELDS},
                slots_with_data=Sum("slots_with_data"),
                slots_expected=Sum("slots_expected"),
            )
            .order_by("period")
        )


class DailyEnergy(models.Model):
    """A plant's energy over one day of its own time zone (23 or 25 hours on daylight-saving days).

    Every flow comes from the inverters' own day counters, summed over the plant's inverters (a
    replaced inverter's part of the day included); a counter reset or a gap never makes energy
    negative or counts it twice. `slots_with_data` of `slots_expected` history slots had a reading.
    """

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="daily_energy")
    # The plant's company, copied so that fleet totals are one index range (plants never change company).
    company = models.ForeignKey("portal.Company", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    production_wh = models.BigIntegerField(default=0)
    consumption_wh = models.BigIntegerField(default=0)
    grid_export_wh = models.BigIntegerField(default=0)
    grid_import_wh = models.BigIntegerField(default=0)
    battery_charge_wh = models.BigIntegerField(default=0)
    battery_discharge_wh = models.BigIntegerField(default=0)
    slots_with_data = models.PositiveIntegerField(default=0)
    slots_expected = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = DailyEnergyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plant", "day"], name="daily_energy_unique")]
        indexes = [
            models.Index(
                fields=["company", "day"], include=["production_wh"], name="daily_energy_company_day"
            )
        ]
        ordering = ["day"]

    def __str__(self):
        return f"{self.plant_id} {self.day}"
