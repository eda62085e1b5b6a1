"""The AURA register map: the one declarative source for decoding, polling, simulating and settings.

AURA inverters are KSTAR BluE-S hybrids; the input registers follow the public KSTAR hybrid
definitions. Holding registers 3218–3225 (inverter serial) and 3400–3404 (settings) are not
published: this project defines them, to be confirmed against the manufacturer's Modbus document
before touching real hardware.

Conventions chosen here, and followed by the simulator:
- 32-bit values span two registers, high word first.
- Grid power is positive when importing from the grid, negative when exporting.
- Battery power and current are positive when discharging, negative when charging.
- Warning word (3049–3050) bit n is code Wnn; fault word (3051–3052) bit n is code Fnn for
  n ≤ 20. A 32-bit word has no bit 32: fault F32 (SCI) is bit 31, and the clock-initialisation
  failure that the guide prints as a second "W26" is bit 29, code W29.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

MAX_BLOCK = 125  # registers per Modbus read


class Table(StrEnum):
    INPUT = "input"  # function 04
    HOLDING = "holding"  # functions 03 / 06 / 16


class Kind(StrEnum):
    U16 = "u16"
    S16 = "s16"
    U32 = "u32"
    ASCII = "ascii"
    ENUM = "enum"
    BITS = "bits"  # 32-bit field, high word first


class Group(StrEnum):
    LIVE = "live"  # read every poll
    INFO = "info"  # identity and firmware: read when testing a connection, then hourly
    SETTINGS = "settings"  # remote-control settings, read and written on demand


@dataclass(frozen=True)
class Register:
    key: str
    address: int
    kind: Kind
    label: str
    group: Group = Group.LIVE
    table: Table = Table.INPUT
    scale: float = 1
    unit: str = ""
    length: int = 1  # registers; u32/bits are 2, ASCII as given
    choices: dict = field(default_factory=dict)
    bits: dict = field(default_factory=dict)
    writable: bool = False

    @property
    def count(self):
        return 2 if self.kind in (Kind.U32, Kind.BITS) else self.length

    @property
    def decimals(self):
        """Decimal places of the scale (0.01 → 2): decoded values are rounded to them."""
        return len(repr(self.scale).partition(".")[2].rstrip("0"))

    def decode(self, words):
        """Physical value of this register from its raw 16-bit words."""
        if self.kind == Kind.ASCII:
            raw = b"".join(w.to_bytes(2, "big") for w in words)
            return raw.replace(b"\x00", b"").decode("ascii", "replace").strip()
        if self.kind in (Kind.U32, Kind.BITS):
            raw = (words[0] << 16) | words[1]
        elif self.kind == Kind.S16:
            raw = words[0] - 0x10000 if words[0] & 0x8000 else words[0]
        else:
            raw = words[0]
        if self.kind in (Kind.BITS, Kind.ENUM):
            return raw
        return round(raw * self.scale, self.decimals) if self.scale != 1 else raw

    def encode(self, value):
        """Raw 16-bit words for a physical value (the inverse of decode)."""
        if self.kind == Kind.ASCII:
            raw = str(value).encode("ascii")[: self.count * 2].ljust(self.count * 2, b"\x00")
            return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
        raw = int(value) if self.kind in (Kind.BITS, Kind.ENUM) else round(value / self.scale)
        if self.kind in (Kind.U32, Kind.BITS):
            raw &= 0xFFFFFFFF
            return [raw >> 16, raw & 0xFFFF]
        return [raw & 0xFFFF]

    def display(self, value):
        """The value as a person reads it: a choice's name, or the number with its unit."""
        if self.choices:
            return self.choices.get(value, value)
        return f"{number_format(value)} {self.unit}".strip()


def identity(key, address, label, length):
    """An ASCII identity field (holding register, read-only)."""
    return Register(key, address, Kind.ASCII, label, group=Group.INFO, table=Table.HOLDING, length=length)


def setting(key, address, label, choices):
    """A writable remote-control setting (holding register, one of `choices`)."""
    return Register(
        key,
        address,
        Kind.ENUM,
        label,
        group=Group.SETTINGS,
        table=Table.HOLDING,
        choices=choices,
        writable=True,
    )


WORKING_MODES = {0: "self_use", 1: "time_of_use", 2: "battery_priority"}
REMOTE_CONTROL_CHOICES = {1: "disabled", 2: "enabled"}  # the inverter screen's CONTRÔLE À DISTANCE
GRID_CODES = {14: "EN 50549", 1: "VDE 4105", 3: "CEI 0-21", 9: "G98", 24: "DK"}
ON_OFF = {0: "off", 1: "on"}

# Warning word bit n is Wnn (bit 29: W29, the guide's second "W26"); fault word bit n is Fnn (F32: bit 31).
WARNING_BITS = {n: f"W{n:02d}" for n in range(30)}
FAULT_BITS = {**{n: f"F{n:02d}" for n in range(21) if n != 3}, 31: "F32"}

# fmt: off
REGISTERS = [
    Register("pv1_voltage", 3000, Kind.U16, _("PV1 voltage"), scale=0.1, unit="V"),
    Register("pv2_voltage", 3001, Kind.U16, _("PV2 voltage"), scale=0.1, unit="V"),
    Register("pv1_current", 3012, Kind.S16, _("PV1 current"), scale=0.01, unit="A"),
    Register("pv2_current", 3013, Kind.S16, _("PV2 current"), scale=0.01, unit="A"),
    Register("pv1_power", 3024, Kind.S16, _("PV1 power"), unit="W"),
    Register("pv2_power", 3025, Kind.S16, _("PV2 power"), unit="W"),
    Register("pv_energy_today", 3036, Kind.U16, _("PV energy today"), scale=0.1, unit="kWh"),
    Register("pv_energy_total", 3041, Kind.U32, _("PV energy total"), scale=0.1, unit="kWh"),
    Register("working_mode", 3044, Kind.ENUM, _("Working mode"), choices=WORKING_MODES),
    Register("model_code", 3045, Kind.ENUM, _("Model code")),
    Register("system_status", 3046, Kind.ENUM, _("System status")),
    Register("inverter_status", 3047, Kind.ENUM, _("Inverter status")),
    Register("dcdc_status", 3048, Kind.ENUM, _("DC-DC status")),
    Register("warning_bits", 3049, Kind.BITS, _("Warnings"), bits=WARNING_BITS),
    Register("fault_bits", 3051, Kind.BITS, _("Faults"), bits=FAULT_BITS),
    Register("battery_voltage", 3063, Kind.U16, _("Battery voltage"), scale=0.01, unit="V"),
    Register("battery_current", 3064, Kind.S16, _("Battery current"), scale=0.1, unit="A"),
    Register("battery_power", 3065, Kind.S16, _("Battery power"), unit="W"),
    Register("battery_soc", 3066, Kind.U16, _("Battery state of charge"), scale=0.1, unit="%"),
    Register("battery_temperature", 3067, Kind.S16, _("Battery temperature"), scale=0.1, unit="°C"),
    Register("battery_soh", 3075, Kind.U16, _("Battery state of health"), scale=0.1, unit="%"),
    Register("discharge_limit", 3078, Kind.U16, _("Discharge power limit"), unit="%"),
    Register("charge_limit", 3079, Kind.U16, _("Charge power limit"), unit="%"),
    Register("grid_voltage", 3097, Kind.U16, _("Grid voltage"), scale=0.1, unit="V"),
    Register("grid_frequency", 3098, Kind.U16, _("Grid frequency"), scale=0.01, unit="Hz"),
    Register("grid_current", 3099, Kind.S16, _("Grid current"), scale=0.001, unit="A"),
    Register("grid_power", 3100, Kind.S16, _("Grid power L1"), unit="W"),
    Register("grid_power_l2", 3104, Kind.S16, _("Grid power L2"), unit="W"),
    Register("grid_power_l3", 3108, Kind.S16, _("Grid power L3"), unit="W"),
    Register("grid_import_today", 3109, Kind.U16, _("Grid import today"), scale=0.1, unit="kWh"),
    Register("grid_import_total", 3114, Kind.U32, _("Grid import total"), scale=0.1, unit="kWh"),
    Register("grid_export_today", 3116, Kind.U16, _("Grid export today"), scale=0.1, unit="kWh"),
    Register("grid_export_total", 3121, Kind.U32, _("Grid export total"), scale=0.1, unit="kWh"),
    Register("eps_load_power", 3137, Kind.U16, _("Backup (EPS) load power"), unit="W"),
    Register("load_power_l1", 3144, Kind.U16, _("Home load power L1"), unit="W"),
    Register("load_power_l2", 3145, Kind.U16, _("Home load power L2"), unit="W"),
    Register("load_power_l3", 3146, Kind.U16, _("Home load power L3"), unit="W"),
    Register("load_energy_today", 3147, Kind.U16, _("Load energy today"), scale=0.1, unit="kWh"),
    Register("load_energy_total", 3152, Kind.U32, _("Load energy total"), scale=0.1, unit="kWh"),
    Register("grid_standard", 3193, Kind.ENUM, _("Grid standard")),
    Register("battery_discharge_total", 3292, Kind.U32, _("Battery discharge total"), unit="kWh"),
    Register("battery_discharge_today", 3294, Kind.U16, _("Battery discharge today"), scale=0.1, unit="kWh"),
    Register("battery_charge_total", 3299, Kind.U32, _("Battery charge total"), unit="kWh"),
    Register("battery_charge_today", 3301, Kind.U16, _("Battery charge today"), scale=0.1, unit="kWh"),
    Register("grid_charge_enable", 3314, Kind.ENUM, _("Grid charging"), choices=ON_OFF),
    Register("grid_charge_start", 3317, Kind.U16, _("Grid charging start (hhmm)")),
    Register("grid_charge_end", 3318, Kind.U16, _("Grid charging end (hhmm)")),
    # Identity (holding registers, read-only).
    identity("model_name", 3200, _("Model"), 6),
    identity("battery_name", 3206, _("Battery"), 6),
    identity("firmware_arm", 3212, _("ARM firmware"), 3),
    identity("firmware_dsp", 3215, _("DSP firmware"), 3),
    identity("serial_number", 3218, _("Inverter serial number"), 8),
    # Remote-control settings (project-defined, see the module docstring).
    Register("remote_control", 3400, Kind.ENUM, _("Remote control"), group=Group.SETTINGS,
             table=Table.HOLDING, choices=REMOTE_CONTROL_CHOICES),
    setting("setting_working_mode", 3401, _("Working mode"), WORKING_MODES),
    setting("setting_eps", 3402, _("Backup (EPS) output"), ON_OFF),
    setting("setting_ac_coupling", 3403, _("AC coupling (retrofit)"), ON_OFF),
    setting("setting_grid_code", 3404, _("Grid code"), GRID_CODES),
]
# fmt: on

BY_KEY = {r.key: r for r in REGISTERS}
REMOTE_CONTROL = BY_KEY["remote_control"]
REMOTE_CONTROL_ENABLED = 2
# The inverter refuses settings writes with this Modbus exception while remote control is disabled.
EXCEPTION_REMOTE_DISABLED = 4
# Model code (register 3045) → rated power in W, by the kW in the AURA model name.
RATED_POWER_W = {5: 5000, 10: 10000, 15: 15000, 20: 20000, 25: 25000}


@dataclass(frozen=True)
class Block:
    table: Table
    start: int
    count: int
    registers: tuple

    def decode(self, words):
        return {
            r.key: r.decode(words[r.address - self.start : r.address - self.start + r.count])
            for r in self.registers
        }


def plan(group):
    """Group the registers of `group` into as few reads as possible, each at most MAX_BLOCK long."""
    blocks = []
    for table in Table:
        regs = sorted(
            (r for r in REGISTERS if r.group == group and r.table == table), key=lambda r: r.address
        )
        current = []
        for reg in regs:
            if current and reg.address + reg.count - current[0].address > MAX_BLOCK:
                blocks.append(_block(table, current))
                current = []
            current.append(reg)
        if current:
            blocks.append(_block(table, current))
    return blocks


def _block(table, regs):
    start = regs[0].address
    end = max(r.address + r.count for r in regs)
    return Block(table, start, end - start, tuple(regs))


LIVE_PLAN = plan(Group.LIVE)
INFO_PLAN = plan(Group.INFO)
SETTINGS_PLAN = plan(Group.SETTINGS)


def active_codes(values):
    """The alarm codes whose bits are up in decoded values: {"F13", "W02", ...}."""
    codes = set()
    for key in ("warning_bits", "fault_bits"):
        word = values.get(key) or 0
        reg = BY_KEY[key]
        codes.update(code for bit, code in reg.bits.items() if word >> bit & 1)
    return codes
