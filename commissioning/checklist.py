"""The commissioning checklist, as data: the installer guide's site procedures (chapters 1 to 3) for
a plant of a given system type and battery, and the settings the portal recommends for the type.

Nothing here reads a device or the database: `checklist_for(plant)` builds the items from what the
plant declares; `commissioning.checks` evaluates the automatic ones; views and the report only show
them. Each item's words cite the guide; where the guide shows a figure that our copy of it lacks (the
per-type setting screens of chapter 3, the backup box's wiring steps), the item says so.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from plants.models import BATTERY_USABLE_KWH, GRID_CODE_EN_50549, SystemType

# A current clamp's cable reaches the AURA up to 5 m from the main breaker; beyond, the Yada meter
# (guide chapter 1, « Cas où la batterie est à + de 5 m du disjoncteur d'abonné »).
CT_MAX_DISTANCE_M = 5

BACKUP_TYPES = frozenset({SystemType.DC_BACKUP, SystemType.DC_AC_BACKUP, SystemType.AC_BACKUP})
# The guide's « RETROFIT »: an existing PV plant kept on the house's AC side.
RETROFIT_TYPES = frozenset({SystemType.DC_AC, SystemType.DC_AC_BACKUP, SystemType.AC, SystemType.AC_BACKUP})
# Panels wired to the AURA itself (« Panneaux raccordés sur AURA »): not the AC-coupled types.
PV_ON_AURA_TYPES = frozenset({SystemType.DC, SystemType.DC_BACKUP, SystemType.DC_AC, SystemType.DC_AC_BACKUP})

# The writable settings (devices.registermap) the portal recommends for every type: self-use (the
# AURA's « autoconsommation totale »), no grid charging, full charge and discharge power.
# UNVERIFIED: the guide's chapter 3 shows each type's working-mode screen as a picture our copy of
# it lacks; these values follow its text (self-consumption) and the inverter's defaults. A backup
# type keeps self-use: the EPS output, not the working mode, powers the backup circuits.
RECOMMENDED_SETTINGS: dict[str, int] = {
    "working_mode": 0,
    "grid_charge_enable": 0,
    "charge_limit": 100,
    "discharge_limit": 100,
}


class Kind(StrEnum):
    MANUAL = "manual"  # ticked by the installer, who / when recorded (or a reason why not)
    SCREEN = "screen"  # set on the inverter's screen: ticked with a photo of the screen
    INPUT = "input"  # a figure the installer enters (the breaker distance)
    AUTOMATIC = "automatic"  # checked by the portal from what it read; never ticked by hand


class Section(StrEnum):
    WIRING = "wiring"
    BATTERY = "battery"
    BACKUP = "backup"
    STARTUP = "startup"
    STICK = "stick"
    SCREEN = "screen"
    RESTART = "restart"
    HANDOVER = "handover"
    CHECKS = "checks"


SECTION_LABELS = {
    Section.WIRING: _("Wiring (guide, chapter 1)"),
    Section.BATTERY: _("Battery"),
    Section.BACKUP: _("Backup box"),
    Section.STARTUP: _("Start-up, in this order (guide, chapter 2)"),
    Section.STICK: _("WiFi stick"),
    Section.SCREEN: _("Settings on the inverter's screen (guide, chapter 3)"),
    Section.RESTART: _("Restart"),
    Section.HANDOVER: _("Hand-over"),
    Section.CHECKS: _("Automatic checks"),
}


@dataclass(frozen=True)
class Item:
    key: str
    section: Section
    kind: Kind
    label: str
    detail: str = ""
    photo: bool = False  # a photo is asked for (a screen item cannot be ticked without one)

    @property
    def tickable(self) -> bool:
        return self.kind in (Kind.MANUAL, Kind.SCREEN)


def _wiring(distance_m) -> list[Item]:
    if distance_m is None:
        return [
            Item(
                "breaker_distance",
                Section.WIRING,
                Kind.INPUT,
                _("Distance between the battery and the main breaker"),
                _("Enter it: under 5 m the supplied current clamp (CT) is used, beyond it the Yada meter."),
            )
        ]
    if distance_m < CT_MAX_DISTANCE_M:
        return [
            Item(
                "ct_wiring",
                Section.WIRING,
                Kind.MANUAL,
                _("Current clamp (CT) on the grid supply, wired to the AURA connector"),
                _("Pin 1: CT positive electrode (white); pin 2: CT negative pole (black)."),
                photo=True,
            )
        ]
    return [
        Item(
            "meter_wiring",
            Section.WIRING,
            Kind.MANUAL,
            _("Yada meter wired (battery more than 5 m from the main breaker)"),
            _(
                "L and N on meter terminals 3 and 4; the current transformer's white (I*) and blue (I) "
                "wires on terminals 5 and 6; RS485-A and RS485-B on AURA connector pins 3 and 4."
            ),
            photo=True,
        )
    ]


def _battery(battery_model) -> list[Item]:
    modules = int(BATTERY_USABLE_KWH.get(battery_model, 5) // 5)
    return [
        Item(
            "battery_cables",
            Section.BATTERY,
            Kind.MANUAL,
            _("Battery cables connected as in the guide's diagram"),
            format_lazy(
                _(
                    "Power (red and black), earth (green/yellow) and communication (grey) cables, "
                    "{modules} module(s) of 5 kWh ({model})."
                ),
                modules=modules,
                model=battery_model,
            ),
            photo=True,
        ),
    ]


def _backup() -> list[Item]:
    return [
        Item(
            "backup_box",
            Section.BACKUP,
            Kind.MANUAL,
            _("Backup box wired to the AURA's backup (EPS) output"),
            _(
                "Step 1: disconnect the house's panel from the grid; then the wiring of the guide's "
                "figure « Câblage coffret en mode Backup » (not reproduced here)."
            ),
            photo=True,
        ),
    ]


def _startup(system_type) -> list[Item]:
    pv = system_type in PV_ON_AURA_TYPES
    steps = [
        ("startup_dc_breaker", _("DC protection breaker ON (in the PV protection box)"), pv),
        ("startup_battery_breakers", _("Each battery's breaker ON (on the side of the batteries)"), True),
        (
            "startup_battery_load",
            _("The batteries' main « Load » breaker ON, last (between the inverter and the batteries)"),
            True,
        ),
        ("startup_pv_isolator", _("PV isolator ON"), pv),
        ("startup_load_breaker", _("Load breaker ON"), True),
        ("startup_ac_breaker", _("AC protection box breaker ON"), True),
    ]
    items = [Item(key, Section.STARTUP, Kind.MANUAL, label) for key, label, applies in steps if applies]
    items.append(
        Item(
            "startup_generating",
            Section.STARTUP,
            Kind.MANUAL,
            _("The screen shows « Boot Countdown », then « GENERATING » after 60 s"),
            _("The green LED blinks during the countdown, then stays on: the inverter produces."),
            photo=True,
        )
    )
    return items


def _stick(loggers) -> list[Item]:
    serials = ", ".join(lg.serial_number for lg in loggers) or "…"
    items = [
        Item(
            "stick_wifi",
            Section.STICK,
            Kind.MANUAL,
            _("Stick connected to the customer's internet box"),
            format_lazy(
                _(
                    "Phone on the stick's hotspot AP_{sn} (password: the characters after PWD on the "
                    "stick), then the box's WiFi network and password (guide 4-2-d)."
                ),
                sn=serials,
            ),
        ),
        Item(
            "stick_com_led",
            Section.STICK,
            Kind.MANUAL,
            _("The stick's COM LED is on"),
            _("Off: the stick is badly seated or has no network (guide 5-c)."),
        ),
    ]
    if any(lg.reach == "hub" for lg in loggers):
        items.append(
            Item(
                "stick_server_b",
                Section.STICK,
                Kind.MANUAL,
                _("Server B set on the stick (it calls the portal in)"),
                _(
                    "On the stick's page 10.10.100.254/config_hide.html (through AP_<SN>): the portal's "
                    "address and port, TCP, client mode; Server A stays as it is."
                ),
            )
        )
    return items


def _screen(system_type) -> list[Item]:
    items = [
        Item(
            "screen_remote_control",
            Section.SCREEN,
            Kind.SCREEN,
            _("Remote control enabled"),
            _("CONTRÔLE À DISTANCE → 2 : ACTIVER (guide 4-4-e). Without it no setting can be sent."),
            photo=True,
        )
    ]
    if system_type in BACKUP_TYPES:
        items.append(
            Item(
                "screen_eps",
                Section.SCREEN,
                Kind.SCREEN,
                _("Backup (EPS) output ON"),
                _("On the screen, or in the stick's local mode: Advanced Function → EPS (guide 4-5)."),
                photo=True,
            )
        )
    if system_type in RETROFIT_TYPES:
        items.append(
            Item(
                "screen_ac_coupling",
                Section.SCREEN,
                Kind.SCREEN,
                _("AC coupling ON (existing PV plant kept)"),
                _("On the screen, or in the stick's local mode: Advanced Function → AC COUPLE (guide 4-5)."),
                photo=True,
            )
        )
    return items


def _restart_and_handover() -> list[Item]:
    return [
        Item(
            "restart_3_minutes",
            Section.RESTART,
            Kind.MANUAL,
            _("Inverter switched off for 3 minutes, then restarted, after the settings"),
            _("Mandatory once the settings are done (guide, chapter 3)."),
        ),
        Item(
            "stop_order_explained",
            Section.HANDOVER,
            Kind.MANUAL,
            _("Stop order explained to the customer"),
            _("AC switch OFF; wait 30 seconds; then DC switch OFF (guide, chapter 2)."),
        ),
    ]


def _automatic() -> list[Item]:
    words = {
        "auto_logger": (_("The datalogger answers"), _("Read directly, or called in through the hub.")),
        "auto_identity": (
            _("The inverter's identity matches the battery model"),
            _("Model, serial, firmware and battery name read from the inverter."),
        ),
        "auto_grid_standard": (
            _("Grid standard EN 50549"),
            format_lazy(
                _("Read from register 3193 (value {code}), unless a reason is recorded."),
                code=GRID_CODE_EN_50549,
            ),
        ),
        "auto_ct_direction": (
            _("Current clamp direction"),
            _(
                "The grid power's sign agrees with the import and export day counters over polls with "
                "grid exchange; no W28 (CT reversed) alarm."
            ),
        ),
        "auto_battery": (
            _("The battery answers"),
            _("State of charge and voltage readable; no battery or BMS alarm."),
        ),
        "auto_settings": (
            _("Working mode and charge settings as recommended for the type"),
            _("Self-use, no grid charging, full charge and discharge power."),
        ),
        "auto_no_fault": (_("No active fault"), ""),
        "auto_first_day": (_("A first full day of data received"), ""),
    }
    return [
        Item(key, Section.CHECKS, Kind.AUTOMATIC, label, detail) for key, (label, detail) in words.items()
    ]


def checklist_for(*, system_type, battery_model, breaker_distance_m=None, loggers=()) -> list[Item]:
    """The plant's items, in the guide's order."""
    items = [*_wiring(breaker_distance_m), *_battery(battery_model)]
    if system_type in BACKUP_TYPES:
        items += _backup()
    items += [*_startup(system_type), *_stick(loggers), *_screen(system_type), *_restart_and_handover()]
    items += _automatic()
    return items


def screen_instructions(system_type) -> list[Item]:
    """What the inverter does not accept remotely, for the plant's type: the screen items."""
    return _screen(system_type)
