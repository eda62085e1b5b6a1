"""Energy per plant and per local day (and month): what dashboards, charts, exports and fleet totals
read.

Rows are derived from the history (devices.Reading) by `energy.accounting` and can be recomputed at
any time; no page scans raw readings over more than one day, and no fleet total scans daily rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Sum
from django.db.models.functions import TruncYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.downloads import PreparedFile
from core.scoping import RestrictedByPlantQuerySet

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
SUMMED_FIELDS = [*WH_FIELDS, "slots_with_data", "slots_expected"]


class EnergyQuerySet(RestrictedByPlantQuerySet):
    def by_year(self):
        """Rows summed per year, oldest first."""
        return (
            self.annotate(period=TruncYear(self.model.PERIOD_FIELD))
            .values("period")
            .annotate(**{f: Sum(f) for f in SUMMED_FIELDS})
            .order_by("period")
        )


class Energy(models.Model):
    """A plant's energy over a period, in Wh, with how many history slots had a reading."""

    # The plant's company, copied for exports and company-wide sums (plants never change company).
    company = models.ForeignKey("portal.Company", on_delete=models.CASCADE, related_name="+")
    production_wh = models.BigIntegerField(default=0)
    consumption_wh = models.BigIntegerField(default=0)
    grid_export_wh = models.BigIntegerField(default=0)
    grid_import_wh = models.BigIntegerField(default=0)
    battery_charge_wh = models.BigIntegerField(default=0)
    battery_discharge_wh = models.BigIntegerField(default=0)
    slots_with_data = models.PositiveIntegerField(default=0)
    slots_expected = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = EnergyQuerySet.as_manager()

    class Meta:
        abstract = True


class DailyEnergyQuerySet(EnergyQuerySet):
    history_field, history_by_day = "day", True


class MonthlyEnergyQuerySet(EnergyQuerySet):
    # A month is dated by its first day: the month of a change of owner mixes both owners, not shown.
    history_field, history_by_day = "month", True


class DailyEnergy(Energy):
    """A plant's energy over one day of its own time zone (23 or 25 hours on daylight-saving days).

    Every flow comes from the inverters' own day counters, summed over the plant's inverters (a
    replaced inverter's part of the day included); a counter reset or a gap never makes energy
    negative or counts it twice. `slots_with_data` of `slots_expected` history slots had a reading.
    """

    PERIOD_FIELD = "day"
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="daily_energy")
    day = models.DateField()
    # Where accounting stands (energy.accounting): the newest history slot counted, and each
    # inverter's counters at the last settled reading, so that a refresh reads only what came since.
    latest_slot = models.DateTimeField(null=True, editable=False)
    tally = models.JSONField(null=True, editable=False)
    # {flow field: [Wh of each half-hour from the day's start]} (46 to 50 half-hours on
    # daylight-saving days; a list stops at its last counted half-hour): what tariffs value (economics).
    half_hours = models.JSONField(null=True, editable=False)

    objects = DailyEnergyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plant", "day"], name="daily_energy_unique")]
        indexes = [
            # The fleet's "today": one index range per day, joined to the user's plants.
            models.Index(fields=["day", "plant"], include=["production_wh"], name="daily_energy_day_plant")
        ]
        ordering = ["day"]

    def __str__(self):
        return f"{self.plant_id} {self.day}"


class MonthlyEnergy(Energy):
    """The sum of a plant's daily rows over one calendar month (`month` is its first day), kept in
    step with them by `energy.accounting`: the year chart reads 12 rows, the fleet's month total
    one row per plant."""

    PERIOD_FIELD = "month"
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="monthly_energy")
    month = models.DateField()

    objects = MonthlyEnergyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plant", "month"], name="monthly_energy_unique")]
        indexes = [
            models.Index(
                fields=["month", "plant"], include=["production_wh"], name="monthly_energy_month_plant"
            )
        ]
        ordering = ["month"]

    def __str__(self):
        return f"{self.plant_id} {self.month:%Y-%m}"


class ReadingsExport(PreparedFile):
    """A readings CSV too long to stream in one request (more than EXPORT_BACKGROUND_ROWS rows): built
    by a Celery task into a file, offered to the person who asked for EXPORT_DAYS, while they may
    still see the plant."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="+")
    first = models.DateField()
    last = models.DateField()
    language = models.CharField(max_length=8)
    file = models.FileField(upload_to="readings/", blank=True)

    class Meta(PreparedFile.Meta):
        indexes = [models.Index(fields=["user", "plant", "first", "last"], name="readings_export_asked")]

    def __str__(self):
        return f"{self.plant_id} {self.first}…{self.last} {self.status}"

    @property
    def filename(self):
        return f"readings-{self.plant_id}-{self.first}-{self.last}.csv"


class BatteryDayQuerySet(RestrictedByPlantQuerySet):
    history_field, history_by_day = "day", True


class BatteryDay(models.Model):
    """A battery's health on one local day of its plant, as its inverter reported it last that day:
    the state of health (3075) and the discharge total (3292), from which the equivalent full
    cycles follow (the discharge total over the plant's usable capacity)."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="+")
    inverter = models.ForeignKey("devices.Inverter", on_delete=models.CASCADE, related_name="battery_days")
    day = models.DateField()
    soh_pct = models.DecimalField(max_digits=4, decimal_places=1, null=True)
    discharge_total_kwh = models.PositiveIntegerField(null=True)
    cycles = models.DecimalField(max_digits=8, decimal_places=1, null=True)  # none: capacity unknown

    objects = BatteryDayQuerySet.as_manager()

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["inverter", "day"], name="one_battery_day")]

    def __str__(self):
        return f"{self.inverter_id} {self.day}: {self.soh_pct} %"
