"""Plants (centrales), what their customers are granted, and their photos."""

import functools
import operator
import re
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from astral import Observer
from astral.sun import elevation
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Sum
from django.db.models.functions import Now, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import CompanyRole
from core.scoping import ACTIONS, ADMINISTER, CHANGE, VIEW, RestrictedByPlantQuerySet
from core.validators import validate_single_line

from .gridcodes import GRID_STANDARDS

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(available_timezones()) if "/" in tz]


class SystemType(models.TextChoices):
    """The six configurations of the installer guide, chapter 3."""

    DC = "dc", _("DC-coupled")
    DC_BACKUP = "dc_backup", _("DC-coupled + backup box")
    DC_AC = "dc_ac", _("DC & AC coupled (retrofit of an existing PV plant)")
    DC_AC_BACKUP = "dc_ac_backup", _("DC & AC coupled + backup box")
    AC = "ac", _("AC-coupled (retrofit)")
    AC_BACKUP = "ac_backup", _("AC-coupled + backup box")


class BatteryModel(models.TextChoices):
    AURA_5 = "AURA 5KM-BG", "AURA 5KM-BG"
    AURA_10 = "AURA 10KM-BG", "AURA 10KM-BG"
    AURA_15 = "AURA 15KM-BG", "AURA 15KM-BG"
    AURA_20 = "AURA 20KM-BG", "AURA 20KM-BG"
    AURA_25 = "AURA 25KM-BG", "AURA 25KM-BG"


# Usable capacity per model, in kWh: one 5 kWh module per "5" of the name (to confirm on the datasheet).
BATTERY_USABLE_KWH = {
    BatteryModel.AURA_5: Decimal("5.0"),
    BatteryModel.AURA_10: Decimal("10.0"),
    BatteryModel.AURA_15: Decimal("15.0"),
    BatteryModel.AURA_20: Decimal("20.0"),
    BatteryModel.AURA_25: Decimal("25.0"),
}


# An inverter may still sleep this long after sunrise (and fall asleep this long before sunset).
WAKE_UP_DELAY = timedelta(hours=1)

# The inverter's grid-standard register (3193) values, named as the public list names them.
GRID_CODE_CHOICES = list(GRID_STANDARDS.items())
GRID_CODE_EN_50549 = 14  # France


@functools.cache
def zone_positions() -> dict[str, tuple[float, float]]:
    """Each time zone's reference position (latitude, longitude), from tzdata's zone.tab."""
    positions = {}
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        _country, iso6709, zone, *_comment = line.split("\t")
        match = re.fullmatch(r"([+-]\d+)([+-]\d+)", iso6709)
        if match:
            positions[zone] = (_degrees(match.group(1), 2), _degrees(match.group(2), 3))
    return positions


def time_zones_matching(query: str, *, limit: int) -> list[str]:
    """Time zones whose name holds `query` (spaces for underscores, any case), at most `limit`."""
    needle = query.strip().replace(" ", "_").casefold()
    return [zone for zone, _label in TIMEZONE_CHOICES if needle in zone.casefold()][:limit] if needle else []


def _degrees(value: str, width: int) -> float:
    """ISO 6709 ±DDMM[SS] / ±DDDMM[SS] as decimal degrees."""
    sign = -1 if value[0] == "-" else 1
    digits = value[1:]
    whole, minutes, seconds = digits[:width], digits[width : width + 2], digits[width + 2 :] or "0"
    return sign * (int(whole) + int(minutes) / 60 + int(seconds) / 3600)


class PlantStatus(models.TextChoices):
    INCOMPLETE = "incomplete", _("Incomplete")
    ONLINE = "online", _("Online")
    PARTIALLY_OFFLINE = "partially_offline", _("Partially offline")
    OFFLINE = "offline", _("Offline")


class CommissioningStep(models.TextChoices):
    PLANT = "plant", _("Create the plant")
    DATALOGGER = "datalogger", _("Add the datalogger")
    TEST = "test", _("Test the connection")
    CUSTOMER = "customer", _("Authorise the end customer")
    FINISH = "finish", _("Checklist and hand-over")


class PlantQuerySet(models.QuerySet):
    def restrict(self, user, action=VIEW):
        """The plants `user` may see ("view"), change ("change") or hand over and delete
        ("administer"): the one rule every page, API viewset and export uses.

        Installers: their company's plants (a technician or viewer limited to some: those given to
        them), changed unless their role there is viewer, administered by its administrators only;
        and the plants another company lends them for a period (`PlantAccess`: seen, changed if
        lent as technician, from its start to its end, by the clock of this query: nothing has to
        run for it to end). Customers see the plants granted to them and change nothing. A user
        authenticated by an API token limited to some plants (`token_plant_ids`, set by the
        token's authentication) has only those of them."""
        if not user.is_authenticated or action not in ACTIONS:
            return self.none()
        token_plant_ids = getattr(user, "token_plant_ids", None)
        plants = self if token_plant_ids is None else self.filter(pk__in=token_plant_ids)
        if user.is_distributor_admin:
            return plants.all() if action == VIEW else self.none()
        if user.is_customer:
            if action != VIEW:
                return self.none()
            return plants.filter(
                grants__customer=user, grants__accepted_at__isnull=False, archived_at__isnull=True
            )
        scopes = _installer_scopes(user, action) if user.is_installer else []
        if not scopes:
            return self.none()
        return plants.filter(functools.reduce(operator.or_, scopes), archived_at__isnull=True)


def _installer_scopes(user, action):
    """The conditions an installer's plants meet for `action`: their company's (all, or those given
    to them), and those lent to them now."""
    scopes = []
    own = {VIEW: True, CHANGE: user.may_change, ADMINISTER: user.is_company_administrator}[action]
    if own:
        mine = models.Q(company_id=user.company_id)
        if not user.sees_every_company_plant:
            mine &= models.Q(pk__in=Plant.members.through.objects.filter(user_id=user.pk).values("plant_id"))
        scopes.append(mine)
    if action != ADMINISTER and user.borrows_plants:
        lent = PlantAccess.objects.current().filter(user_id=user.pk)
        if action == CHANGE:
            lent = lent.exclude(role=CompanyRole.VIEWER)
        scopes.append(models.Q(pk__in=lent.values("plant_id")))
    return scopes


# The stored copy of the plant's status and counts, computed from its devices and grants by
# monitoring.status (the rule needs the devices, which sit above this layer).
STATUS_FIELDS = ("status", "n_loggers", "n_loggers_seen", "n_devices", "n_down", "n_grants")


# Written only by services (conditional updates), never by saving a plant loaded earlier.
SERVICE_FIELDS = {*STATUS_FIELDS, "customer_history_since", "battery_confirmed"}


def sees_whole_company(user):
    """Whether `user` sees exactly the plants of their company, so that the company's stored figures
    are theirs: an installer who sees all of them (not limited to some, nor by a token) and none
    lent by another company."""
    return (
        user.is_authenticated
        and user.sees_every_company_plant
        and getattr(user, "token_plant_ids", None) is None
        and not (user.borrows_plants and PlantAccess.objects.current().filter(user_id=user.pk).exists())
    )


def fleet_counts(user):
    """How many of the plants `user` sees are in each status (every status present), and their
    installed kWp. An installer's come from the company's `FleetCount` (one row whatever the
    fleet's size); a customer's or an admin's are counted."""
    if sees_whole_company(user):
        stored = FleetCount.objects.filter(company_id=user.company_id).first() or FleetCount()
        return stored.counts(), stored.pv_power_kwp
    counts = dict.fromkeys(PlantStatus.values, 0)
    kwp = Decimal(0)
    rows = Plant.objects.restrict(user, VIEW).order_by().values("status")
    for row in rows.annotate(n=Count("pk"), kwp=Sum("pv_power_kwp")):
        counts[row["status"]] = row["n"]
        kwp += row["kwp"]
    return counts, kwp


class Plant(models.Model):
    """A customer's solar + battery installation (centrale), owned by one installer company."""

    company = models.ForeignKey("portal.Company", on_delete=models.PROTECT, related_name="plants")
    name = models.CharField(_("name"), max_length=200, validators=[validate_single_line])
    address = models.CharField(_("street address"), max_length=300, validators=[validate_single_line])
    postcode = models.CharField(_("postcode"), max_length=20, validators=[validate_single_line])
    city = models.CharField(_("city"), max_length=100, validators=[validate_single_line])
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIMEZONE_CHOICES, default="Europe/Paris"
    )
    pv_power_kwp = models.DecimalField(
        _("installed PV power (kWp)"),
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
    )
    system_type = models.CharField(_("system type"), max_length=20, choices=SystemType.choices)
    battery_model = models.CharField(_("battery model"), max_length=20, choices=BatteryModel.choices)
    grid_code = models.PositiveSmallIntegerField(
        _("grid code"), choices=GRID_CODE_CHOICES, default=GRID_CODE_EN_50549
    )
    commissioning_date = models.DateField(_("commissioning date"), null=True, blank=True)
    # The installer's own labels ("SAV", "contrat maintenance"): alarm rules and people's
    # notifications may be limited to the plants with a tag.
    tags = ArrayField(
        models.CharField(max_length=40, validators=[validate_single_line]),
        verbose_name=_("tags"),
        size=10,
        default=list,
        blank=True,
        help_text=_("Comma-separated, e.g. “maintenance contract, VIP”."),
    )
    # Two kinds of notes: the installer's own, never shown to the customer, and those for the customer.
    notes = models.TextField(_("internal notes (installers only)"), blank=True)
    # The company's technicians and viewers given this plant (those who do not see all of them).
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="assigned_plants",
        verbose_name=_("members given it"),
    )
    customer_notes = models.TextField(_("notes for the customer"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    commissioning_completed_at = models.DateTimeField(null=True, blank=True)
    # Set when the plant changes owner without sharing its history: its customers see nothing from
    # before this moment (see history_since_for). Installers always see everything.
    customer_history_since = models.DateTimeField(null=True, blank=True, editable=False)
    # The battery name an inverter reported and the installer confirmed as right for this plant.
    battery_confirmed = models.CharField(max_length=32, blank=True, editable=False)
    # The plant's status and the counts the lists and the stepper read, stored by
    # `monitoring.status.plant_status_refresh` from the devices and grants (never edited by hand).
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PlantStatus.choices,
        default=PlantStatus.INCOMPLETE,
        editable=False,
    )
    n_loggers = models.PositiveIntegerField(default=0, editable=False)
    n_loggers_seen = models.PositiveIntegerField(default=0, editable=False)
    n_devices = models.PositiveIntegerField(default=0, editable=False)
    n_down = models.PositiveIntegerField(default=0, editable=False)
    n_grants = models.PositiveIntegerField(default=0, editable=False)
    # Deleting a plant archives it: pages forget it, the distributor keeps its alarm history.
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = PlantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["company", "name"]),
            # The watch list: each status's first plants by name.
            models.Index(fields=["company", "status", "name"], name="plant_company_status_name"),
            GinIndex(fields=["tags"], name="plant_tags"),
            # The fleet home's plants being commissioned, oldest first, and their (capped) count.
            models.Index(
                fields=["company", "created_at", "id"],
                condition=models.Q(commissioning_completed_at__isnull=True, archived_at__isnull=True),
                name="plant_being_commissioned",
            ),
            # The list's search ("contains", case-insensitive: UPPER(col) LIKE …) by trigrams. Without
            # GIN's pending list (fastupdate): plants are written seldom and searched often, and a
            # burst of new plants would otherwise be scanned entry by entry by every search until
            # autovacuum merged them (18 ms instead of 0.3 at 10,000 plants).
            *(
                GinIndex(
                    OpClass(Upper(field), name="gin_trgm_ops"), name=f"plant_{field}_trgm", fastupdate=False
                )
                for field in ("name", "address", "city")
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The stored status and the history start are written by services only: saving a plant
        # loaded before a poll or a transfer must not write its stale copy back
        # (docs/architecture/invariants.md).
        if not self._state.adding and kwargs.get("update_fields") is None:
            fields = self._meta.concrete_fields
            kwargs["update_fields"] = [
                f.name for f in fields if not f.primary_key and f.name not in SERVICE_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def battery_usable_kwh(self):
        return BATTERY_USABLE_KWH.get(self.battery_model)

    def battery_mismatch(self, inverter):
        """Words for the installer when the inverter names another battery than the plant declares,
        else None.

        UNVERIFIED: what the real inverter puts in its battery-name registers (3208–3215, ASCII) is
        not public; the names are compared only when the inverter's names a capacity as AURA's do
        ("10KM"), so that an unknown format never raises a false alarm."""
        if inverter.battery_name and inverter.battery_name == self.battery_confirmed:
            return None  # the installer confirmed it
        read = re.search(r"(\d+)\s*KM", (inverter.battery_name or "").upper())
        declared = re.search(r"(\d+)KM", self.battery_model or "")
        if not read or not declared or read.group(1) == declared.group(1):
            return None
        return _(
            "The inverter reports the battery “%(read)s”, but the plant is declared %(declared)s: check "
            "the battery, or correct the plant."
        ) % {"read": inverter.battery_name, "declared": self.battery_model}

    @property
    def tzinfo(self):
        return ZoneInfo(self.time_zone)

    def history_since_for(self, user):
        """The moment from which `user` may see this plant's history: the hand-over's for its end
        customers (unless the installer shared the history), None (everything) for everyone else.
        Every read path bounds its rows by it (core.scoping.RestrictedByPlantQuerySet in SQL)."""
        return self.customer_history_since if user.is_authenticated and user.is_customer else None

    def first_whole_day(self, since):
        """The first local day whose energy is all after `since`: a day row of the hand-over day
        mixes both owners' energy, so it is never shown to the new one."""
        return None if since is None else timezone.localdate(since, self.tzinfo) + timedelta(days=1)

    @property
    def position_entered(self):
        return self.latitude is not None and self.longitude is not None

    @property
    def coordinates(self):
        """Latitude and longitude in degrees. Where not entered, the time zone's reference city
        (tzdata's zone.tab: Sydney for Australia/Sydney), and the plant's page says that night
        detection is approximate. A zone with no city (Etc/GMT-10): its standard UTC offset's meridian
        (15° an hour) at France's latitude, 46.5° N."""
        if self.position_entered:
            return float(self.latitude), float(self.longitude)
        city = zone_positions().get(self.time_zone)
        if city:
            return city
        offset = ZoneInfo(self.time_zone).utcoffset(datetime(2026, 1, 15)).total_seconds() / 3600
        return 46.5, offset * 15

    def sun_elevation(self, at):
        """The sun's elevation above the plant's horizon at `at`, in degrees."""
        return elevation(Observer(*self.coordinates), at)

    def is_plausibly_night(self, at, *, last_pv=None):
        """Whether an inverter that does not answer its stick (`05 00`) may just be asleep.

        Yes while the sun is down and in the first hour after sunrise (an inverter wakes when PV is
        enough); in the last hour before sunset only if the last reading had no PV left. Otherwise
        the inverter should be awake, and its silence is a fault to report.
        """
        if self.sun_elevation(at) <= 0 or self.sun_elevation(at - WAKE_UP_DELAY) <= 0:
            return True
        return last_pv == 0 and self.sun_elevation(at + WAKE_UP_DELAY) <= 0

    @property
    def next_step(self):
        """The first commissioning step still to do, or None once commissioned."""
        if self.n_loggers == 0:
            return CommissioningStep.DATALOGGER
        if self.n_loggers_seen == 0:
            return CommissioningStep.TEST
        if self.commissioning_completed_at is None:
            return CommissioningStep.CUSTOMER if self.n_grants == 0 else CommissioningStep.FINISH
        return None


class FleetCount(models.Model):
    """How many active plants a company has in each status (one column per status), and their
    installed kWp. Kept by the database itself (statement triggers on the plants table, migration
    0010_fleet_figures), in the transaction that changes the plants, whatever writes them: polls'
    set-based status updates, services, bulk inserts, the admin. One row per company: transactions
    that change one company's plants queue on it and can never lock two rows in opposite orders.
    The fleet pages read it instead of counting every plant (tests count the plants to check it)."""

    company = models.OneToOneField(
        "portal.Company", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    incomplete = models.IntegerField(default=0)
    online = models.IntegerField(default=0)
    partially_offline = models.IntegerField(default=0)
    offline = models.IntegerField(default=0)
    pv_power_kwp = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    def __str__(self):
        return f"{self.company_id}: {self.counts()}"

    def counts(self):
        return {status: getattr(self, status) for status in PlantStatus.values}


class FleetFigures(models.Model):
    """A company's solar power now and its production today and this month, as the fleet home
    shows them: computed for every company by the beat (`fleet_figures_refresh`, every minute) so
    that the page reads one row, not every plant's. A row older than its limit (no beat running)
    or of another day is recomputed by the page that finds it."""

    company = models.OneToOneField(
        "portal.Company", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    pv_power_w = models.BigIntegerField()
    day = models.DateField()  # the portal's local day of the production figures
    production_today_wh = models.BigIntegerField()
    production_month_wh = models.BigIntegerField()
    computed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.company_id} at {self.computed_at:%Y-%m-%d %H:%M}"


# The fleet table's sort keys (PlantFigures' columns): sorted highest first, a plant with no value
# (None) after every plant with one; the other way round ascending.
FIGURE_SORT_KEYS = ("pv_power_w", "today_wh", "yield_yesterday", "last_seen_at", "active_alarms")


class PlantFigures(models.Model):
    """A plant's figures as the fleet table shows and sorts them: solar power now, production today,
    yesterday's yield per installed kWp, when a logger was last heard, active alarms. Computed for
    every plant by the beat with the company figures (`monitoring.fleet.fleet_figures_refresh`), so
    that sorting the list by one of them reads one index range of the company, whatever the fleet's
    size. The database makes each plant's row with it and moves it with the plant to a new company
    (triggers, migration 0017_plant_figures), so that the sorted list, an inner join, never loses a
    plant (docs/architecture/invariants.md)."""

    plant = models.OneToOneField(Plant, on_delete=models.CASCADE, primary_key=True, related_name="figures")
    # The plant's company, copied so that each sort key's index starts with it.
    company = models.ForeignKey("portal.Company", on_delete=models.CASCADE, related_name="+", db_index=False)
    pv_power_w = models.BigIntegerField(null=True)  # None: no live value fresh enough
    today_wh = models.BigIntegerField(db_default=0)  # the plant's local day
    yield_yesterday = models.DecimalField(max_digits=7, decimal_places=2, null=True)  # kWh/kWp
    last_seen_at = models.DateTimeField(null=True)
    active_alarms = models.IntegerField(db_default=0)
    computed_at = models.DateTimeField(null=True)  # None: not computed yet (a plant just made)

    class Meta:
        indexes = [
            models.Index(
                models.F("company"),
                models.F(key).desc(nulls_last=True),
                models.F("plant").desc(),
                name=f"plant_figures_{key}",
            )
            for key in FIGURE_SORT_KEYS
        ]

    def __str__(self):
        return f"{self.plant_id} at {self.computed_at}"

    def redact_for(self, user):
        """These figures as `user` may read them, in memory: a customer given the plant at a
        hand-over reads nothing from before it (Plant.history_since_for): not the production of
        the hand-over's day (it mixes both owners'), nor the yield of the day before, nor a
        contact older than it (`seen_before_history`)."""
        since = self.plant.history_since_for(user)
        if since is None:
            return self
        first_day = self.plant.first_whole_day(since)
        today = timezone.localdate(self.computed_at or timezone.now(), self.plant.tzinfo)
        if first_day > today:
            self.today_wh = None
        if first_day > today - timedelta(days=1):
            self.yield_yesterday = None
        if self.last_seen_at is not None and self.last_seen_at < since:
            self.last_seen_at, self.seen_before_history = None, True
        return self


def new_token():
    return secrets.token_urlsafe(32)


class PlantGrant(models.Model):
    """An end customer's read-only access to a plant (the guide's "autoriser l'usine")."""

    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="grants")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plant_grants"
    )
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # A customer who already had an account is invited: nothing is shown until they accept.
    accepted_at = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)

    objects = RestrictedByPlantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plant", "customer"], name="grant_unique")]
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.customer} → {self.plant}"


class PlantAccessQuerySet(RestrictedByPlantQuerySet):
    def current(self):
        """The accesses running now, by the database's clock: one ends without anything running."""
        return self.filter(starts_at__lte=Now(), ends_at__gt=Now())


class PlantAccess(models.Model):
    """A plant lent to an installer of another company (a subcontractor) for a period, as
    technician or viewer; given by the plant's company's administrators."""

    MAX_DAYS = 366

    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plant_accesses"
    )
    role = models.CharField(
        _("role"),
        max_length=20,
        choices=[
            (CompanyRole.TECHNICIAN, CompanyRole.TECHNICIAN.label),
            (CompanyRole.VIEWER, CompanyRole.VIEWER.label),
        ],
        default=CompanyRole.TECHNICIAN,
    )
    starts_at = models.DateTimeField(_("from"), default=timezone.now)
    ends_at = models.DateTimeField(_("until"))
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PlantAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-ends_at"]
        indexes = [models.Index(fields=["user", "ends_at"], name="access_of_user")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="access_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.user} → {self.plant} until {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.user_id and not (self.user.is_installer and self.user.is_active):
            raise ValidationError({"user": _("Only an installer's account can be lent a plant.")})
        if self.user_id and self.plant_id and self.user.company_id == self.plant.company_id:
            raise ValidationError(
                {"user": _("A member of the company: give them the plant on the team page.")}
            )
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must come after the start.")})
        if self.ends_at and self.starts_at and self.ends_at - self.starts_at > timedelta(days=self.MAX_DAYS):
            raise ValidationError(
                {"ends_at": _("At most %(days)s days at a time.") % {"days": self.MAX_DAYS}}
            )


class PlantPhotoQuerySet(RestrictedByPlantQuerySet):
    history_field = "created_at"  # photos and captions of before a hand-over are the previous owner's


class PlantPhoto(models.Model):
    """A photo of the installation, with a thumbnail for lists; served only to who may see the plant."""

    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="plants/%Y/%m/")
    thumbnail = models.ImageField(upload_to="plants/%Y/%m/thumbs/")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = PlantPhotoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.caption or self.image.name


class SavedFilter(models.Model):
    """A person's named filter of the plant list ("Offline in Brittany", "tag:SAV"): the list's
    query string, kept with only the filters the list knows."""

    MAX_PER_USER = 20

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("name"), max_length=60, validators=[validate_single_line])
    query = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name")]

    def __str__(self):
        return self.name
