"""Dataloggers (WiFi sticks), the inverters behind them, their live values and their history."""

import re

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SERIAL_RE = re.compile(r"^\d{10}$")
# The Solarman V5 frame carries the logger serial as an unsigned 32-bit number.
MAX_LOGGER_SERIAL = 0xFFFFFFFF


def validate_logger_serial(value):
    if not SERIAL_RE.match(value or ""):
        raise ValidationError(
            _(
                "A datalogger serial number is 10 digits, as printed on the stick and its box "
                "(for example 2355553510)."
            ),
            code="serial_format",
        )
    if int(value) > MAX_LOGGER_SERIAL:
        raise ValidationError(
            _("%(sn)s is not a valid datalogger serial number (at most 4294967295)."),
            params={"sn": value},
            code="serial_range",
        )


class DeviceStatus(models.TextChoices):
    NEVER_SEEN = "never_seen", _("Never seen")
    ONLINE = "online", _("Online")
    ASLEEP = "asleep", _("Asleep (night)")
    OFFLINE = "offline", _("Offline")


class Protocol(models.TextChoices):
    SOLARMAN_V5 = "solarman_v5", _("Solarman V5 (WiFi stick, port 8899)")
    MODBUS_TCP = "modbus_tcp", _("Modbus TCP (Ethernet logger or RS485 gateway, port 502)")


class DataloggerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True, plant__archived_at__isnull=True)

    def for_user(self, user):
        from plants.models import Plant

        return self.active().filter(plant__in=Plant.objects.for_user(user))


class Datalogger(models.Model):
    """A WiFi stick (or Ethernet logger) reached by the portal; its SN is unique across the portal."""

    serial_number = models.CharField(
        _("serial number (SN)"), max_length=10, validators=[validate_logger_serial]
    )
    plant = models.ForeignKey("plants.Plant", on_delete=models.PROTECT, related_name="dataloggers")
    protocol = models.CharField(
        _("protocol"), max_length=20, choices=Protocol.choices, default=Protocol.SOLARMAN_V5
    )
    host = models.CharField(
        _("host"), max_length=255, blank=True, help_text=_("Address at which the portal reaches the logger.")
    )
    port = models.PositiveIntegerField(_("port"), default=8899)
    unit_id = models.PositiveSmallIntegerField(_("Modbus unit id"), default=1)
    status = models.CharField(max_length=12, choices=DeviceStatus.choices, default=DeviceStatus.NEVER_SEEN)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    missed_polls = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = DataloggerQuerySet.as_manager()

    class Meta:
        ordering = ["serial_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["serial_number"],
                condition=models.Q(archived_at__isnull=True),
                name="datalogger_sn_unique_active",
            ),
        ]

    def __str__(self):
        return self.serial_number

    @property
    def ap_name(self):
        """The stick's own WiFi hotspot, as the installer sees it on the phone."""
        return f"AP_{self.serial_number}"

    def poll_outcome_status(self, *, ok, asleep):
        """The status after one poll: offline only after enough missed polls in a row."""
        if ok:
            return DeviceStatus.ASLEEP if asleep else DeviceStatus.ONLINE
        if self.missed_polls + 1 >= settings.DEVICE_OFFLINE_AFTER_MISSED:
            return DeviceStatus.OFFLINE
        return self.status


class InverterQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(datalogger__in=Datalogger.objects.for_user(user))


class Inverter(models.Model):
    """An AURA hybrid inverter, read through its datalogger; `latest` holds its last decoded values."""

    datalogger = models.ForeignKey(Datalogger, on_delete=models.PROTECT, related_name="inverters")
    serial_number = models.CharField(_("serial number"), max_length=32)
    model_name = models.CharField(_("model"), max_length=32, blank=True)
    battery_name = models.CharField(_("battery"), max_length=32, blank=True)
    firmware = models.CharField(_("firmware"), max_length=64, blank=True)
    rated_power_w = models.PositiveIntegerField(_("rated power (W)"), null=True, blank=True)
    status = models.CharField(max_length=12, choices=DeviceStatus.choices, default=DeviceStatus.NEVER_SEEN)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    latest = models.JSONField(default=dict, blank=True)
    latest_at = models.DateTimeField(null=True, blank=True)
    info_read_at = models.DateTimeField(null=True, blank=True)

    objects = InverterQuerySet.as_manager()

    class Meta:
        ordering = ["serial_number"]
        constraints = [
            models.UniqueConstraint(fields=["datalogger", "serial_number"], name="inverter_sn_unique"),
        ]

    def __str__(self):
        return self.serial_number


class Reading(models.Model):
    """One inverter's values at one history slot (5 minutes by default).

    The key (inverter, slot) makes storage idempotent: a retried poll writes the same slot once.
    The primary-key index serves "one inverter, time range"; `Inverter.latest` serves "last value".
    """

    pk = models.CompositePrimaryKey("inverter_id", "slot")
    inverter = models.ForeignKey(Inverter, on_delete=models.CASCADE, related_name="readings")
    slot = models.DateTimeField()
    pv_power = models.IntegerField(help_text="W")
    load_power = models.IntegerField(help_text="W")
    grid_power = models.IntegerField(help_text="W, positive = import")
    battery_power = models.IntegerField(help_text="W, positive = discharge")
    battery_soc = models.DecimalField(max_digits=4, decimal_places=1, help_text="%")
    pv_energy_total = models.DecimalField(max_digits=12, decimal_places=1, help_text="kWh")
    load_energy_total = models.DecimalField(max_digits=12, decimal_places=1, help_text="kWh")
    grid_import_total = models.DecimalField(max_digits=12, decimal_places=1, help_text="kWh")
    grid_export_total = models.DecimalField(max_digits=12, decimal_places=1, help_text="kWh")
    battery_charge_total = models.IntegerField(help_text="kWh")
    battery_discharge_total = models.IntegerField(help_text="kWh")
    warning_bits = models.BigIntegerField()
    fault_bits = models.BigIntegerField()

    class Meta:
        # Slots arrive in time order, so a small BRIN index serves fleet-wide time scans.
        indexes = [BrinIndex(fields=["slot"], name="reading_slot_brin")]

    def __str__(self):
        return f"{self.inverter_id} @ {self.slot:%Y-%m-%d %H:%M}"
