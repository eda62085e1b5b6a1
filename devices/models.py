"""Dataloggers (WiFi sticks), the inverters behind them, their live values and their history."""

import ipaddress
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.indexes import BrinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.network import ip_allowed
from core.scoping import VIEW, RestrictedByPlantQuerySet
from plants.models import Plant

from .fields import NarrowForeignKey, history_field
from .messages import Message, MessageField, define
from .registermap import BY_KEY, PLANT_SUMS
from .transport import REASON_TEXT, Reason

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


HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$", re.I
)


def validate_logger_host(value):
    """An IP address or a DNS name: nothing else is ever connected to (no URL, no space, no port)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not HOSTNAME_RE.match(value or "") or value.replace(".", "").isdigit():
            raise ValidationError(
                _("Enter the logger's IP address or host name (e.g. 192.0.2.10 or logger.example.fr)."),
                code="host_format",
            ) from None


def address_allowed(address):
    """Whether the portal may connect to `address` (an IP): public addresses, and the private or
    loopback ranges that the distributor admin listed (DATALOGGER_ALLOWED_NETWORKS, e.g. a VPN),
    so that "test the connection" cannot probe the portal's own network."""
    return ip_allowed(address, settings.DATALOGGER_ALLOWED_NETWORKS)


NOT_ALLOWED_TEXT = REASON_TEXT[Reason.NOT_ALLOWED]  # the same words when saved and when connecting


class DeviceStatus(models.TextChoices):
    NEVER_SEEN = "never_seen", _("Never seen")
    ONLINE = "online", _("Online")
    ASLEEP = "asleep", _("Asleep (night)")
    # The stick answers, but its inverter does not (`05 00` in daylight): RS485, unit id, COM LED.
    INVERTER_SILENT = "inverter_silent", _("Inverter not answering the stick")
    # The stick and the live values answer, but no inverter could be identified yet: nothing is stored.
    NO_IDENTITY = "no_identity", _("Inverter not identified")
    OFFLINE = "offline", _("Offline")


# Statuses in which the portal receives no data from a device: the plant counts it as down.
DOWN_STATUSES = (
    DeviceStatus.OFFLINE,
    DeviceStatus.NEVER_SEEN,
    DeviceStatus.INVERTER_SILENT,
    DeviceStatus.NO_IDENTITY,
)


class PollOutcome(StrEnum):
    """What one poll of a logger gave, before the plant's time of day is taken into account."""

    OK = "ok"  # the live values were read
    NO_INVERTER = "no_inverter"  # the stick answered `05 00`: asleep at night, silent by day
    FAILED = "failed"  # the logger itself did not answer properly
    BUSY = "busy"  # another process held the stick: not a miss


class Reach(models.TextChoices):
    """How the portal reaches a logger."""

    HUB = "hub", _("Calls in to the portal (Server B, no VPN needed)")
    DIRECT = "direct", _("Direct: LAN, VPN or Modbus TCP gateway (address and port)")


class Protocol(models.TextChoices):
    SOLARMAN_V5 = "solarman_v5", _("Solarman V5 (WiFi stick, port 8899)")
    MODBUS_TCP = "modbus_tcp", _("Modbus TCP (Ethernet logger or RS485 gateway, port 502)")


class DataloggerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True, plant__archived_at__isnull=True)

    def restrict(self, user, action=VIEW):
        return self.active().filter(plant__in=Plant.objects.restrict(user, action))


class Datalogger(models.Model):
    """A WiFi stick (or Ethernet logger) reached by the portal; its SN is unique across the portal."""

    serial_number = models.CharField(
        _("serial number (SN)"), max_length=10, validators=[validate_logger_serial]
    )
    plant = models.ForeignKey("plants.Plant", on_delete=models.PROTECT, related_name="dataloggers")
    reach = models.CharField(
        _("how the portal reaches it"), max_length=10, choices=Reach.choices, default=Reach.HUB
    )
    protocol = models.CharField(
        _("protocol"), max_length=20, choices=Protocol.choices, default=Protocol.SOLARMAN_V5
    )
    host = models.CharField(
        _("host"),
        max_length=253,
        blank=True,
        validators=[validate_logger_host],
        help_text=_("Address at which the portal reaches the logger."),
    )
    port = models.PositiveIntegerField(
        _("port"), default=8899, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    unit_id = models.PositiveSmallIntegerField(
        _("Modbus unit id"), default=1, validators=[MinValueValidator(1), MaxValueValidator(247)]
    )
    status = models.CharField(max_length=20, choices=DeviceStatus.choices, default=DeviceStatus.NEVER_SEEN)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    missed_polls = models.PositiveIntegerField(default=0)
    last_error = MessageField(null=True, blank=True)  # why the last poll failed, in the reader's language
    # When the stick last called in to the hub (hub loggers only).
    last_called_in_at = models.DateTimeField(null=True, blank=True)
    # When the inverter's identity was last asked for: retried on its own schedule, not every poll.
    identity_checked_at = models.DateTimeField(null=True, blank=True)
    # The inverter serial the last poll read: another inverter is taken for a replacement only when
    # two polls in a row read the same new serial (one glitchy read never makes a swap).
    inverter_serial_seen = models.CharField(max_length=32, blank=True)
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

    def clean(self):
        if self.reach == Reach.HUB:
            if self.protocol != Protocol.SOLARMAN_V5:
                raise ValidationError(
                    {"reach": _("Only a Solarman V5 WiFi stick can call in; choose Direct.")}
                )
            self.host = ""  # never connected to: the stick comes to the hub
            return
        if not self.host:
            raise ValidationError({"host": _("Enter the address at which the portal reaches the logger.")})
        try:
            literal = ipaddress.ip_address(self.host)
        except ValueError:
            return  # a host name: its addresses are checked when connecting (transport.resolve)
        if not address_allowed(literal):
            raise ValidationError({"host": NOT_ALLOWED_TEXT})

    @property
    def ap_name(self):
        """The stick's own WiFi hotspot, as the installer sees it on the phone."""
        return f"AP_{self.serial_number}"

    def record_poll(self, *, outcome, at, night=False, identified=True, error=None):
        """Apply one poll's outcome to the logger: one status per poll, and why (a Message).

        Offline only after DEVICE_OFFLINE_AFTER_MISSED failed polls in a row; `05 00` is "asleep" at
        night and "inverter not answering" by day; live values without an identified inverter are
        "not identified" (nothing can be stored against it).
        """
        self.last_polled_at = at
        if outcome == PollOutcome.FAILED:
            self.missed_polls += 1
            self.last_error = error
            if self.missed_polls >= settings.DEVICE_OFFLINE_AFTER_MISSED:
                self.status = DeviceStatus.OFFLINE
            return
        self.last_seen_at = at
        if outcome == PollOutcome.NO_INVERTER and night:
            self.status, self.missed_polls, self.last_error = DeviceStatus.ASLEEP, 0, None
        elif outcome == PollOutcome.NO_INVERTER:
            self.status, self.last_error = DeviceStatus.INVERTER_SILENT, Message(INVERTER_SILENT)
            self.missed_polls += 1
        elif not identified:
            self.status, self.missed_polls = DeviceStatus.NO_IDENTITY, 0
            self.last_error = error or Message(NO_IDENTITY)
        else:
            self.status, self.missed_polls, self.last_error = DeviceStatus.ONLINE, 0, error

    def identity_due(self, now, *, identified):
        """Whether this poll should also read the identity block (hourly; every 10 min until known)."""
        if self.identity_checked_at is None:
            return True
        every = settings.IDENTITY_REFRESH if identified else settings.IDENTITY_RETRY
        return now - self.identity_checked_at >= every


INVERTER_SILENT = define(
    "inverter_silent",
    _(
        "The stick answers but the inverter does not: check the RS485 cable between stick and inverter, "
        "the unit id, and the stick's COM LED."
    ),
)
NO_IDENTITY = define(
    "no_identity",
    _(
        "The stick answers but the inverter gave no identity: check the RS485 cable between stick and "
        "inverter, the unit id, and the COM LED."
    ),
)


class InverterQuerySet(models.QuerySet):
    def restrict(self, user, action=VIEW):
        return self.filter(datalogger__in=Datalogger.objects.restrict(user, action))

    def counted(self):
        """The inverters whose values make the plant's figures: not replaced, not rejected."""
        return self.filter(ended_at__isnull=True, rejected_at__isnull=True)

    def firmware_inventory(self):
        """These inverters in service by firmware version, most common first: rows of
        {firmware_arm, firmware_dsp, inverters, plants}; "" for a version not read yet."""
        rows = (
            self.counted().filter(datalogger__archived_at__isnull=True).values("firmware_arm", "firmware_dsp")
        )
        rows = rows.annotate(
            inverters=models.Count("pk"), plants=models.Count("datalogger__plant", distinct=True)
        )
        return rows.order_by("-inverters", "firmware_arm", "firmware_dsp")


# Who makes a plant's figures, as a filter from a plant's inverters (or a path to them).
def counted_inverters(prefix=""):
    return models.Q(**{f"{prefix}ended_at__isnull": True, f"{prefix}rejected_at__isnull": True})


def live_totals(inverters):
    """A plant's live figures from its inverters' latest values: the register map's plant sums, the
    mean state of charge, and the time of the freshest value (None when nothing was read yet)."""
    seen = [inv for inv in inverters if inv.latest and inv.counted]
    if not seen:
        return None
    live = {k: round(sum(inv.latest.get(k) or 0 for inv in seen), 1) for k in PLANT_SUMS}
    socs = [inv.latest["battery_soc"] for inv in seen if inv.latest.get("battery_soc") is not None]
    live["battery_soc"] = round(sum(socs) / len(socs), 1) if socs else None
    live["at"] = max(inv.latest_at for inv in seen)
    return live


class Inverter(models.Model):
    """An AURA hybrid inverter, read through its datalogger; its last decoded values are in `live`."""

    datalogger = models.ForeignKey(Datalogger, on_delete=models.PROTECT, related_name="inverters")
    serial_number = models.CharField(_("serial number"), max_length=32)
    model_name = models.CharField(_("model"), max_length=32, blank=True)
    battery_name = models.CharField(_("battery"), max_length=32, blank=True)
    # The versions of its two processors as the identity block gives them (3216 ARM, 3217 DSP).
    firmware_arm = models.CharField(_("ARM firmware"), max_length=16, blank=True)
    firmware_dsp = models.CharField(_("DSP firmware"), max_length=16, blank=True)
    rated_power_w = models.PositiveIntegerField(_("rated power (W)"), null=True, blank=True)
    status = models.CharField(max_length=20, choices=DeviceStatus.choices, default=DeviceStatus.NEVER_SEEN)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # The last history slot that has this inverter's row, claimed by the poll that inserts it: later
    # or concurrent polls of the same slot insert nothing (the history has no unique index).
    history_slot = models.DateTimeField(null=True, blank=True)
    info_read_at = models.DateTimeField(null=True, blank=True)
    # Evidence for the grid-power sign, per local day: does the sign agree with the day counter that
    # grows (import 3109 / export 3116)? {"day", "agree", "disagree", "flagged_on"}.
    grid_sign_check = models.JSONField(default=dict, blank=True)
    # An inverter is who its serial says (read by every poll, input 3228–3238). Another serial behind
    # a logger is a replacement: a new row that `replaces` the one it ends (kept, with its history),
    # pending until an installer confirms it (no remote write before) or rejects it (its readings
    # then leave the plant's figures). A new stick on the same inverter continues the same row.
    first_seen_at = models.DateTimeField(default=timezone.now)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    replacement_confirmed_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)

    objects = InverterQuerySet.as_manager()

    class Meta:
        ordering = ["serial_number"]
        constraints = [
            models.UniqueConstraint(fields=["datalogger", "serial_number"], name="inverter_sn_unique"),
        ]

    def __str__(self):
        return self.serial_number

    @property
    def firmware(self):
        """Both versions, as pages show them ("ARM 1.2.3 · DSP 2.0.7"); empty before a first read."""
        if not (self.firmware_arm or self.firmware_dsp):
            return ""
        return f"ARM {self.firmware_arm or '?'} · DSP {self.firmware_dsp or '?'}"

    @property
    def replacement_pending(self):
        """A replacement no installer has confirmed or rejected yet: nothing is written to it."""
        return (
            self.replaces_id is not None
            and self.replacement_confirmed_at is None
            and self.rejected_at is None
        )

    @property
    def counted(self):
        return self.ended_at is None and self.rejected_at is None

    @property
    def latest(self):
        """Its last decoded values ({} before the first good poll); select_related("live") first."""
        live = getattr(self, "live", None)
        return live.values if live else {}

    @property
    def latest_at(self):
        live = getattr(self, "live", None)
        return live.at if live else None

    def seen_by(self, user):
        """Whether `user` may see the last values: not its plant's new owner when they were read
        before the hand-over (Plant.history_since_for)."""
        since = self.datalogger.plant.history_since_for(user)
        return since is None or (self.latest_at is not None and self.latest_at >= since)

    def observe_grid_sign(self, previous, current, day):
        """Count today's evidence that the declared grid-power sign is right; flag a day that says not.

        A poll where only the import counter grew must show grid power > 0 (import), one where only
        the export counter grew, < 0. Never "fixed": a disagreement is shown to the installer (a
        reversed CT clamp, W28, or firmware with the other convention).
        """
        check = self.grid_sign_check
        if check.get("day") != day:
            check = {"day": day, "agree": 0, "disagree": 0, "flagged_on": check.get("flagged_on")}
            previous = {}  # the day counters restarted at midnight: nothing to compare with
        imported = _growth(previous, current, "grid_import_today")
        exported = _growth(previous, current, "grid_export_today")
        power = current.get("grid_power")
        if power is not None and abs(power) >= GRID_SIGN_MIN_W and (imported > 0) != (exported > 0):
            check["agree" if (power > 0) == (imported > 0) else "disagree"] += 1
            if check["disagree"] >= GRID_SIGN_MIN_EVIDENCE and check["disagree"] > check["agree"]:
                check["flagged_on"] = day
            elif check["agree"] >= GRID_SIGN_MIN_EVIDENCE and not check["disagree"]:
                check["flagged_on"] = None
        self.grid_sign_check = check

    @property
    def grid_sign_flagged_on(self):
        """The local day on which grid power disagreed with the day counters, if any."""
        return self.grid_sign_check.get("flagged_on")


GRID_SIGN_MIN_W = 50  # below this, a phase imbalance or the meter's noise can show either sign
GRID_SIGN_MIN_EVIDENCE = 3


def _growth(previous, current, key):
    before, after = previous.get(key), current.get(key)
    return 0 if before is None or after is None else max(0, after - before)


class InverterLive(models.Model):
    """An inverter's last decoded values, rewritten by every good poll: in a narrow table of their
    own, with room on each page for in-place (HOT) updates, so that the kilobyte or two of values
    rewritten every minute does not bloat the inverters' table that the plant and fleet pages join."""

    inverter = models.OneToOneField(Inverter, on_delete=models.CASCADE, primary_key=True, related_name="live")
    values = models.JSONField(default=dict)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.inverter_id} @ {self.at:%Y-%m-%d %H:%M:%S}"


# The history's index keys each inverter's rows by 6-hour bucket of their slot (a posting list of 72
# rows per key, see Reading). A local day and energy accounting's hour before it span 5 buckets at
# most. Migration 0011's index computes the same.
SLOT_BUCKET = timedelta(hours=6)
BUCKET_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


class SlotBucket(models.Func):
    """A reading's slot bucket (SLOT_BUCKET), as the history's index computes it: a query must name
    it for PostgreSQL to use that index for a time range."""

    template = (
        f"date_bin('{SLOT_BUCKET.total_seconds():.0f} seconds', %(expressions)s, "
        f"'{BUCKET_ORIGIN.isoformat()}')"
    )
    output_field = models.DateTimeField()


def slot_bucket(moment):
    return BUCKET_ORIGIN + (moment - BUCKET_ORIGIN) // SLOT_BUCKET * SLOT_BUCKET


class ReadingQuerySet(models.QuerySet):
    def of_plant(self, plant):
        """The history of every inverter the plant has had (moved and replaced ones included), but a
        replacement the installer rejected (not this plant's inverter)."""
        return self.filter(inverter__datalogger__plant=plant, inverter__rejected_at__isnull=True)

    def during(self, start=None, end=None):
        """Rows from `start` (included) to `end` (excluded), either bound open. The 5-minute history
        is also bounded by slot bucket, its index's second key; the hourly one by its key's hour."""
        if self.model is not Reading:
            return self.filter(
                **{k: v for k, v in [("hour__gte", start), ("hour__lt", end)] if v is not None}
            )
        rows = self.alias(bucket=SlotBucket("slot"))
        if start is not None:
            rows = rows.filter(slot__gte=start, bucket__gte=slot_bucket(start))
        if end is not None:
            rows = rows.filter(slot__lt=end, bucket__lte=slot_bucket(end - timedelta(microseconds=1)))
        return rows

    def with_not_counted(self):
        """Each row's `not_counted`: the day counters energy accounting did not use (ReadingFlag)."""
        flags = ReadingFlag.objects.filter(
            inverter_id=models.OuterRef("inverter_id"), slot=models.OuterRef("slot")
        )
        return self.annotate(not_counted=ArraySubquery(flags.values("counter")))

    def newest_first(self):
        """Newest slot first, in the (inverter, bucket) index's order where the query allows it."""
        return self.alias(bucket=SlotBucket("slot")).order_by("-bucket", "-slot")


class HistoryValues(models.Model):
    """The register map's history values (registermap.HISTORY_FIELDS; a test holds them equal), typed
    from their registers. Null where the inverter's value was outside its sanity limits and discarded."""

    pv_power = history_field("pv_power")
    load_power = history_field("load_power")
    grid_power = history_field("grid_power")  # three phases, positive = import
    battery_power = history_field("battery_power")  # positive = discharge
    battery_soc = history_field("battery_soc")
    pv_energy_total = history_field("pv_energy_total")
    load_energy_total = history_field("load_energy_total")
    grid_import_total = history_field("grid_import_total")
    grid_export_total = history_field("grid_export_total")
    battery_charge_total = history_field("battery_charge_total")
    battery_discharge_total = history_field("battery_discharge_total")
    # The inverter's day counters (0.1 kWh, reset at its midnight): what energy accounting sums.
    pv_energy_today = history_field("pv_energy_today")
    grid_import_today = history_field("grid_import_today")
    grid_export_today = history_field("grid_export_today")
    load_energy_today = history_field("load_energy_today")
    battery_discharge_today = history_field("battery_discharge_today")
    battery_charge_today = history_field("battery_charge_today")
    warning_bits = history_field("warning_bits")
    fault_bits = history_field("fault_bits")

    class Meta:
        abstract = True


class Reading(HistoryValues):
    """One inverter's values at one history slot (5 minutes by default); `InverterLive` serves "last
    value".

    (inverter, slot) is the row's key, but no unique index holds it: polls claim the slot on the
    inverter first (`Inverter.history_slot`, a conditional update in the insert's transaction), so a
    retried or concurrent poll of the same slot inserts nothing. A unique (inverter, slot) index would
    cost 42 bytes a row as polls write it (they add each slot for every inverter in turn, which splits
    its pages half full), against 11 for the deduplicated (inverter, slot bucket) index that serves
    every lookup by inverter and time (see `ReadingQuerySet.during`).
    """

    pk = models.CompositePrimaryKey("inverter_id", "slot")
    # The slot first and the inverter in 4 bytes: 96-byte rows with no alignment padding (migration 0011).
    inverter = NarrowForeignKey(Inverter, on_delete=models.CASCADE, related_name="readings", db_index=False)
    slot = models.DateTimeField()

    objects = ReadingQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(models.F("inverter"), SlotBucket("slot"), name="reading_inverter_bucket"),
            # Slots arrive in time order, so a small BRIN index serves fleet-wide time scans.
            BrinIndex(fields=["slot"], name="reading_slot_brin"),
        ]

    def __str__(self):
        return f"{self.inverter_id} @ {self.slot:%Y-%m-%d %H:%M}"


class ReadingHour(HistoryValues):
    """One inverter's readings of one UTC hour, rolled up when their month leaves the 5-minute history
    (settings.READINGS_RETENTION_MONTHS): powers and state of charge averaged, counters and totals as
    at the hour's last reading, fault and warning bits of any reading in the hour. Kept for good;
    the days' energy stays in energy.DailyEnergy."""

    pk = models.CompositePrimaryKey("inverter_id", "hour")
    inverter = models.ForeignKey(
        Inverter, on_delete=models.CASCADE, related_name="reading_hours", db_index=False
    )
    hour = models.DateTimeField()
    slots = models.PositiveSmallIntegerField(help_text="5-minute readings rolled up")

    objects = ReadingQuerySet.as_manager()

    def __str__(self):
        return f"{self.inverter_id} @ {self.hour:%Y-%m-%d %H}h"


class ReadingFlag(models.Model):
    """A history value that energy accounting did not use, flagged beside the history (which keeps
    it as it was read): a day counter's dip that came back (a glitchy read) or a rise faster than the
    plant can count (a spike). Rewritten with each computation of the day (energy.accounting); rare,
    so a table of its own rather than a column on every reading."""

    class Reason(models.TextChoices):
        GLITCH = "glitch", _("a dip that came back (a glitchy read)")
        SPIKE = "spike", _("a rise faster than the plant can count")

    inverter = models.ForeignKey(Inverter, on_delete=models.CASCADE, related_name="reading_flags")
    slot = models.DateTimeField()
    counter = models.CharField(max_length=40)  # the history column (a day counter)
    reason = models.CharField(max_length=10, choices=Reason.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inverter", "slot", "counter"], name="reading_flag_unique"),
        ]

    def __str__(self):
        return f"{self.inverter_id} @ {self.slot:%Y-%m-%d %H:%M} {self.counter}: {self.reason}"


class SettingChangeQuerySet(RestrictedByPlantQuerySet):
    history_field = "created_at"


class SettingChange(models.Model):
    """One attempt to change an inverter setting remotely, recorded before anything is sent.

    Immutable but for its outcome, which the write task fills in once: who, when, which inverter,
    which setting, from what to what, and what the inverter answered. Installers and the plant's
    customer read it; nobody edits it.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", _("being sent")
        CONFIRMED = "confirmed", _("confirmed")
        REFUSED = "refused", _("refused by the inverter")
        NOT_CONFIRMED = "not_confirmed", _("not confirmed")

    inverter = models.ForeignKey(Inverter, on_delete=models.PROTECT, related_name="setting_changes")
    plant = models.ForeignKey("plants.Plant", on_delete=models.PROTECT, related_name="setting_changes")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=40)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField()
    outcome = models.CharField(max_length=15, choices=Outcome.choices, default=Outcome.PENDING)
    # What the inverter answered, rendered in each reader's language; the old value is the one the
    # write task read from the inverter just before writing (null until then, and for a command).
    answer = MessageField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SettingChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.key}: {self.old_value} → {self.new_value} ({self.outcome})"

    @property
    def label(self):
        return BY_KEY[self.key].label

    def in_words(self):
        """ "Jean of Soleil Bleu changed the working mode from Self-use to Battery priority — confirmed"."""
        register = BY_KEY[self.key]
        who = self.by.get_full_name() or self.by.username
        company = self.by.company.name if self.by.company_id else ""
        return _("%(who)s%(of)s changed %(setting)s from %(old)s to %(new)s — %(outcome)s") % {
            "who": who,
            "of": (_(" of %(company)s") % {"company": company}) if company else "",
            "setting": str(register.label).lower(),
            "old": register.display(self.old_value),
            "new": register.display(self.new_value),
            "outcome": self.get_outcome_display(),
        }

    def finish(self, outcome, answer=None, *, old_value=None):
        """Record the outcome once: a second task run finds it finished and changes nothing."""
        return SettingChange.objects.filter(pk=self.pk, outcome=self.Outcome.PENDING).update(
            outcome=outcome, answer=answer, old_value=old_value, finished_at=timezone.now()
        )


class FirmwareNote(models.Model):
    """What the distributor knows of one firmware version (a known issue, an advice), shown to the
    installers beside it in the firmware inventory."""

    firmware_arm = models.CharField(_("ARM firmware"), max_length=16)
    firmware_dsp = models.CharField(_("DSP firmware"), max_length=16)
    text = models.TextField(_("note"), max_length=2000)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["firmware_arm", "firmware_dsp"], name="one_note_per_firmware")
        ]

    def __str__(self):
        return f"ARM {self.firmware_arm} · DSP {self.firmware_dsp}"


class SettingsJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A job is its author's, and its company's administrators' (who answer for every plant)."""
        if not (user.is_authenticated and user.is_installer and user.company_id):
            return self.none()
        rows = self.filter(company_id=user.company_id)
        return rows if user.company_role == "administrator" else rows.filter(by=user)


class SettingsJob(models.Model):
    """The same settings for many plants at once: a dry run reads each inverter's current values and
    writes nothing; the run then writes each inverter through remote control (its own SettingChange
    rows, read back, its rate limit), one target at a time; a cancel stops the targets not begun."""

    class Status(models.TextChoices):
        READING = "reading", _("dry run under way")
        READY = "ready", _("dry run done")
        RUNNING = "running", _("running")
        CANCELLED = "cancelled", _("cancelled")
        DONE = "done", _("done")

    company = models.ForeignKey("portal.Company", on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Who pressed "Run": the writes are theirs in the settings log (an administrator may run a
    # colleague's dry run).
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    preset = models.JSONField()  # {setting key: value}, checked against the register map
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READING)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SettingsJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.pk} {self.status}"

    @property
    def preset_rows(self):
        return [(BY_KEY[key].label, BY_KEY[key].display(value)) for key, value in self.preset.items()]


class SettingsJobTarget(models.Model):
    """One inverter of a job: what the dry run read, then what its write gave."""

    class State(models.TextChoices):
        READING = "reading", _("being read")
        READ = "read", _("read, nothing written")
        UNREACHABLE = "unreachable", _("not reached")
        UNCHANGED = "unchanged", _("already set")
        WRITING = "writing", _("being written")
        CONFIRMED = "confirmed", _("confirmed")
        REFUSED = "refused", _("refused")
        NOT_CONFIRMED = "not_confirmed", _("not confirmed")
        CANCELLED = "cancelled", _("cancelled")

    FINAL = {"unreachable", "unchanged", "confirmed", "refused", "not_confirmed", "cancelled"}

    job = models.ForeignKey(SettingsJob, on_delete=models.CASCADE, related_name="targets")
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="+")
    inverter = models.ForeignKey(Inverter, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=15, choices=State.choices, default=State.READING)
    current = models.JSONField(null=True)  # the preset's settings as the dry run read them
    answer = MessageField(null=True, blank=True)  # why it was not reached, refused or not confirmed
    changes = models.ManyToManyField(SettingChange, related_name="+")

    class Meta:
        ordering = ["plant__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["job", "inverter"], name="one_target_per_inverter")]

    def __str__(self):
        return f"{self.job_id} {self.inverter_id} {self.state}"

    @property
    def to_write(self):
        """The preset's settings whose value the dry run read differs (all when it could not read)."""
        current = self.current or {}
        return {key: value for key, value in self.job.preset.items() if current.get(key) != value}

    @property
    def rows(self):
        """(setting, value read, new value) for the page."""
        current = self.current or {}
        return [
            (BY_KEY[key].label, BY_KEY[key].display(current.get(key)), BY_KEY[key].display(value))
            for key, value in self.job.preset.items()
        ]
