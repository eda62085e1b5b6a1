"""The AURA register map: the one declarative source for decoding, polling, simulating and settings.

AURA inverters are KSTAR BluE-S hybrids. This map follows, value by value, the public KSTAR hybrid
definition shipped by the Home Assistant solarman integration (davidrapan/ha-solarman,
inverter_definitions/kstar_hybrid.yaml), which cites "KSTAR Hybrid Inverter Modbus V2.9.1"
(2024-07-21) as provided by KSTAR support. What that file says is taken as is; what it does not say
is marked UNVERIFIED below and told to users where it matters:
- 32-bit counters span two registers, high word first (the file lists [3042, 3041]: low, high).
- Grid power 3100 / 3104 / 3108 is raw positive on EXPORT: the newest version of the file negates it
  ("Inverse value to match standard behavior of the other inverters"). The portal's convention is
  positive = import, so these registers carry sign=-1; every inverter is checked on data (the sign
  must agree with the import / export day counters, see Inverter.grid_sign_verdict).
- Grid current 3099 gets the same sign as grid power (UNVERIFIED: the file negates only the powers).
- Battery power 3065 is positive while DISCHARGING: the file's "Power losses" adds it to PV as an
  input of the inverter (PV1 + PV2 + battery − AC output).
- Warning / fault words 3049–3050 / 3051–3052: the bit → code mapping is NOT published; the alarm
  catalogue (alarms.catalogue) holds the documented choice, bit n = code n.
- Writable settings: only those the file writes with function 06 (working mode 3044, discharge /
  charge power limit 3078 / 3079, grid-charge max SOC 3260, grid-charge enable / start / end
  3314 / 3317 / 3318, restart 3243). Remote-control enable, EPS output, AC coupling and the grid
  standard have no public write: they are set on the inverter screen (SCREEN_ONLY).
Input registers exist from 3000 to 3792, holding registers from 3200 to 3246 (the file's header).
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from plants.gridcodes import GRID_STANDARDS

log = logging.getLogger(__name__)

MAX_BLOCK = 125  # registers per Modbus read

Text = str | Promise  # a label, translated when shown
# A decoded value: a number, an enum's raw value, a time or a text by the register's kind; None when it
# could not be decoded. Any: each kind's code knows which it holds.
Value = Any
INPUT_RANGE = range(3000, 3793)  # function 04, per the public definition's header
HOLDING_RANGE = range(3200, 3247)  # function 03
PUBLIC_DOCUMENT = "KSTAR Hybrid Inverter Modbus V2.9.1 (2024-07-21), via ha-solarman kstar_hybrid.yaml"


class Table(StrEnum):
    INPUT = "input"  # function 04 (and 06 for the writable ones, at the same address)
    HOLDING = "holding"  # function 03


class Kind(StrEnum):
    U16 = "u16"
    S16 = "s16"
    U32 = "u32"  # high word first
    ASCII = "ascii"
    ENUM = "enum"
    BITS = "bits"  # 32-bit field, high word first
    HHMM = "hhmm"  # hex-coded time: 0x0230 is 02:30
    VERSION = "version"  # high byte X.Y × 0.1, low byte Z: 0x0C03 is 1.2.3


class Group(StrEnum):
    LIVE = "live"  # read every poll
    INFO = "info"  # identity and firmware: read when testing a connection, then hourly
    COMMAND = "command"  # written only (restart), never read


class SettingGroup(StrEnum):
    WORKING_MODE = "working_mode"
    BATTERY = "battery"
    GRID_CHARGING = "grid_charging"
    SYSTEM = "system"


SETTING_GROUP_LABELS = {
    SettingGroup.WORKING_MODE: _("Working mode"),
    SettingGroup.BATTERY: _("Battery"),
    SettingGroup.GRID_CHARGING: _("Grid charging"),
    SettingGroup.SYSTEM: _("System"),
}


@dataclass(frozen=True)
class Setting:
    """How a register is changed: written with function 06 within a range, or only on the screen."""

    group: SettingGroup
    minimum: int | None = None  # physical, inclusive
    maximum: int | None = None
    confirm: bool = False  # ask for confirmation with the old and new values in words
    screen_instruction: Text = ""  # set on the inverter screen: no write, this instruction instead

    @property
    def writable(self) -> bool:
        return not self.screen_instruction


@dataclass(frozen=True)
class Register:
    key: str
    address: int
    kind: Kind
    label: Text
    group: Group = Group.LIVE
    table: Table = Table.INPUT
    scale: float = 1
    sign: int = 1  # -1 where the device's sign is the opposite of the portal's convention
    unit: str = ""
    length: int = 1  # registers; u32/bits are 2, ASCII as given
    choices: Mapping[int, Text] = field(default_factory=dict)
    limits: tuple[float, float] | None = (
        None  # physical sanity limits: a value outside is discarded, not stored
    )
    setting: Setting | None = None
    history: bool = False  # a column of devices.Reading

    # Cached: every poll decodes some fifty registers with them.
    @cached_property
    def count(self) -> int:
        return 2 if self.kind in (Kind.U32, Kind.BITS) else self.length

    @cached_property
    def decimals(self) -> int:
        """Decimal places of the scale (0.01 → 2): decoded values are rounded to them."""
        return len(repr(self.scale).partition(".")[2].rstrip("0"))

    @property
    def writable(self) -> bool:
        return self.setting is not None and self.setting.writable

    def allows(self, value: Value) -> bool:
        """Whether a setting may take `value`: one of its choices, within its range."""
        setting = self.setting
        if setting is None or value is None or (self.choices and value not in self.choices):
            return False
        return setting.minimum is None or setting.minimum <= value <= setting.maximum

    def decode(self, words: Sequence[int]) -> Value:
        """Physical value of this register from its raw 16-bit words (None when not decodable)."""
        if self.kind == Kind.ASCII:
            data = b"".join(w.to_bytes(2, "big") for w in words)
            return data.replace(b"\x00", b"").decode("ascii", "replace").strip()
        if self.kind in (Kind.U32, Kind.BITS):
            raw = (words[0] << 16) | words[1]
        elif self.kind == Kind.S16:
            raw = words[0] - 0x10000 if words[0] & 0x8000 else words[0]
        else:
            raw = words[0]
        if self.kind == Kind.HHMM:
            return _hhmm_decode(raw)
        if self.kind == Kind.VERSION:
            return f"{(raw >> 8) // 10}.{(raw >> 8) % 10}.{raw & 0xFF}"
        if self.kind in (Kind.BITS, Kind.ENUM):
            return raw
        value = raw * self.sign
        return round(value * self.scale, self.decimals) if self.scale != 1 else value

    def encode(self, value: Value) -> list[int]:
        """Raw 16-bit words for a physical value (the inverse of decode)."""
        if self.kind == Kind.ASCII:
            data = str(value).encode("ascii")[: self.count * 2].ljust(self.count * 2, b"\x00")
            return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        if self.kind == Kind.HHMM:
            hours, minutes = (int(part) for part in value.split(":"))
            return [int(f"{hours:02d}{minutes:02d}", 16)]
        if self.kind == Kind.VERSION:
            xy, _dot, z = value.rpartition(".")
            return [(int(xy.replace(".", "")) << 8) | int(z)]
        if self.kind in (Kind.BITS, Kind.ENUM):
            raw = int(value)
        else:
            raw = round(value * self.sign / self.scale)
        if self.kind in (Kind.U32, Kind.BITS):
            raw &= 0xFFFFFFFF
            return [raw >> 16, raw & 0xFFFF]
        return [raw & 0xFFFF]

    def sane(self, value: Value) -> bool:
        """Whether a decoded value is physically possible (an out-of-range reading is discarded)."""
        if value is None:
            return False
        if self.limits is None:  # an enum value outside its list is kept and shown as "unknown (n)"
            return True
        low, high = self.limits
        return low <= value <= high

    def display(self, value: Value) -> Text:
        """The value as a person reads it: a choice's name, the names of the bits up, or the number
        with its unit."""
        if value is None:
            return "—"
        if self.kind == Kind.BITS:
            up = [bit for bit in range(32) if int(value) >> bit & 1]
            if not up:
                return _("none")
            names = BIT_NAMES.get(self.key, {})
            return ", ".join(str(names.get(bit) or _("bit %(bit)s") % {"bit": bit}) for bit in up)
        if self.choices:
            return str(self.choices.get(value, _("unknown (%(value)s)") % {"value": value}))
        if self.kind in (Kind.ASCII, Kind.HHMM, Kind.VERSION):
            return value
        return f"{number_format(value)}\u00a0{self.unit}".strip()


def _hhmm_decode(raw: int) -> str | None:
    digits = f"{raw:04x}"
    if not digits.isdigit() or int(digits[:2]) > 23 or int(digits[2:]) > 59:
        return None  # not a hex-coded time: discarded by sanity
    return f"{digits[:2]}:{digits[2:]}"


@dataclass(frozen=True)
class Derived:
    """A value computed from registers of the map (a sum of phases or inputs), declared once."""

    key: str
    label: Text
    parts: tuple[str, ...]
    unit: str = "W"
    history: bool = False

    def compute(self, values: dict[str, Value]) -> Value:
        parts = [values.get(key) for key in self.parts]
        return None if any(p is None for p in parts) else sum(parts)

    def display(self, value: Value) -> Text:
        return "—" if value is None else f"{number_format(value)}\u00a0{self.unit}"


WORKING_MODES = {
    0: pgettext_lazy("working mode", "Self-use"),
    1: pgettext_lazy("working mode", "Time of use"),
    2: pgettext_lazy("working mode", "Battery priority"),
}
# Register 3045, with each model's rated AC power in W (from the model name; the M1 variants alike).
MODELS = {
    0: ("KSE-2K-048S", 2000),
    1: ("KSE-3K-048S", 3000),
    2: ("KSE-3.6K-048S", 3600),
    3: ("KSE-4.6K-048S", 4600),
    4: ("KSE-5K-048S", 5000),
    5: ("KSE-3.6K-048", 3600),
    6: ("KSE-4.6K-048", 4600),
    7: ("KSE-5K-048", 5000),
    8: ("KSE-6K-048", 6000),
    9: ("BluE-S 3680D", 3680),
    11: ("BluE-S 5000D", 5000),
    12: ("BluE-S 6000D", 6000),
    14: ("KSE-3K-048S M1", 3000),
    15: ("BluE-S 3680D M1", 3680),
    17: ("BluE-S 5000D M1", 5000),
    18: ("BluE-S 6000D M1", 6000),
    32: ("E10KT", 10000),
    33: ("E8KT", 8000),
    34: ("E12KT", 12000),
}
MODEL_NAMES = {code: name for code, (name, _watts) in MODELS.items()}
RATED_POWER_W = {code: watts for code, (_name, watts) in MODELS.items()}
SYSTEM_STATUSES = {
    0: _("Initialising"),
    1: _("Standby"),
    2: _("On grid (hybrid)"),
    3: _("Off grid"),
    4: _("Charging from the grid"),
    5: _("Charging from PV"),
    6: _("Grid bypass"),
    7: _("Fault"),
    8: _("Debug"),
    9: _("Forced charge"),
    10: _("Powered separately"),  # the public list truncates this one
    11: _("DSP programming"),
    12: _("MCU programming"),
    13: _("Permanent error"),
}
SYSTEM_STATUS_FAULTS = {7, 13}
INVERTER_STATUSES = {
    0: _("Standby"),
    1: _("Off grid"),
    2: _("On grid"),
    3: _("Off grid → on grid"),
    4: _("On grid → off grid"),
}
DCDC_STATUSES = {0: _("Standby"), 1: _("Soft start"), 2: _("Charging"), 3: _("Discharging")}
BATTERY_TYPES = {1: _("Lead-acid"), 6: _("Lithium iron phosphate (LFP)")}
ON_OFF = {0: _("Off"), 1: _("On")}

GUIDE_REMOTE_CONTROL = _(
    "On the inverter's screen: CONTRÔLE À DISTANCE → 2 : ACTIVER (installer guide, chapter 4-4-e)."
)
SCREEN_ONLY = {
    "remote_control": (_("Remote control"), GUIDE_REMOTE_CONTROL),
    "eps_output": (
        _("Backup (EPS) output"),
        _("Set on the inverter's screen, or in the stick's local mode (Advanced Function → EPS)."),
    ),
    "ac_coupling": (
        _("AC coupling (retrofit)"),
        _("Set on the inverter's screen, or in the stick's local mode (Advanced Function → AC COUPLE)."),
    ),
}
GRID_STANDARD_INSTRUCTION = _(
    "Set on the inverter's screen, or in the stick's local mode (Grid Code → EN 50549 in France)."
)

MODE = SettingGroup.WORKING_MODE
BATT = SettingGroup.BATTERY
GRID = SettingGroup.GRID_CHARGING
SYSTEM = SettingGroup.SYSTEM
POWER = (-30000, 30000)  # W: beyond any BluE-S or three-phase KSTAR
ENERGY = (0, 10_000_000)  # kWh
# kWh in one day: 30 kW (beyond any BluE-S) for 24 h. A glitch above it would count as energy.
DAY_ENERGY = (0, 720)

# fmt: off
REGISTERS = [
    Register("pv1_voltage", 3000, Kind.U16, _("PV1 voltage"), scale=0.1, unit="V", limits=(0, 1000)),
    Register("pv2_voltage", 3001, Kind.U16, _("PV2 voltage"), scale=0.1, unit="V", limits=(0, 1000)),
    Register("pv1_current", 3012, Kind.S16, _("PV1 current"), scale=0.01, unit="A", limits=(-1, 40)),
    Register("pv2_current", 3013, Kind.S16, _("PV2 current"), scale=0.01, unit="A", limits=(-1, 40)),
    Register("pv1_power", 3024, Kind.S16, _("PV1 power"), unit="W", limits=(-100, 20000)),
    Register("pv2_power", 3025, Kind.S16, _("PV2 power"), unit="W", limits=(-100, 20000)),
    Register("pv_energy_today", 3036, Kind.U16, _("PV energy today"), scale=0.1, unit="kWh",
             limits=DAY_ENERGY, history=True),
    Register("pv_energy_total", 3041, Kind.U32, _("PV energy total"), scale=0.1, unit="kWh",
             limits=ENERGY, history=True),
    Register("working_mode", 3044, Kind.ENUM, _("Working mode"), choices=WORKING_MODES,
             setting=Setting(MODE, confirm=True)),
    Register("model_code", 3045, Kind.ENUM, _("Inverter model"), choices=MODEL_NAMES),
    Register("system_status", 3046, Kind.ENUM, _("System status"), choices=SYSTEM_STATUSES),
    Register("inverter_status", 3047, Kind.ENUM, _("Inverter status"), choices=INVERTER_STATUSES),
    Register("dcdc_status", 3048, Kind.ENUM, _("DC-DC status"), choices=DCDC_STATUSES),
    Register("warning_bits", 3049, Kind.BITS, _("Warnings"), history=True),
    Register("fault_bits", 3051, Kind.BITS, _("Faults"), history=True),
    Register("inverter_temperature", 3055, Kind.S16, _("Inverter radiator temperature"), scale=0.1,
             unit="°C", limits=(-40, 120)),
    Register("battery_type", 3062, Kind.ENUM, _("Battery type"), choices=BATTERY_TYPES),
    Register("battery_voltage", 3063, Kind.U16, _("Battery voltage"), scale=0.01, unit="V",
             limits=(0, 600)),
    Register("battery_current", 3064, Kind.S16, _("Battery current"), scale=0.1, unit="A",
             limits=(-300, 300)),
    Register("battery_power", 3065, Kind.S16, _("Battery power"), unit="W", limits=POWER, history=True),
    Register("battery_soc", 3066, Kind.U16, _("Battery state of charge"), scale=0.1, unit="%",
             limits=(0, 100), history=True),
    Register("battery_temperature", 3067, Kind.S16, _("Battery temperature"), scale=0.1, unit="°C",
             limits=(-40, 90)),
    Register("battery_depth_of_discharge", 3068, Kind.U16, _("Battery discharge depth"), unit="%",
             limits=(0, 100)),
    Register("battery_soh", 3075, Kind.U16, _("Battery state of health"), scale=0.1, unit="%",
             limits=(0, 100)),
    Register("discharge_limit", 3078, Kind.U16, _("Battery discharging power"), unit="%",
             limits=(0, 100), setting=Setting(BATT, 1, 100, confirm=True)),
    Register("charge_limit", 3079, Kind.U16, _("Battery charging power"), unit="%",
             limits=(0, 100), setting=Setting(BATT, 1, 100, confirm=True)),
    Register("grid_voltage", 3097, Kind.U16, _("Grid voltage"), scale=0.1, unit="V", limits=(0, 500)),
    Register("grid_frequency", 3098, Kind.U16, _("Grid frequency"), scale=0.01, unit="Hz",
             limits=(0, 70)),
    Register("grid_current", 3099, Kind.S16, _("Grid current"), scale=0.001, sign=-1, unit="A"),
    Register("grid_power_l1", 3100, Kind.S16, _("Grid power L1"), sign=-1, unit="W", limits=POWER),
    Register("grid_power_l2", 3104, Kind.S16, _("Grid power L2"), sign=-1, unit="W", limits=POWER),
    Register("grid_power_l3", 3108, Kind.S16, _("Grid power L3"), sign=-1, unit="W", limits=POWER),
    Register("grid_import_today", 3109, Kind.U16, _("Grid import today"), scale=0.1, unit="kWh",
             limits=DAY_ENERGY, history=True),
    Register("grid_import_total", 3114, Kind.U32, _("Grid import total"), scale=0.1, unit="kWh",
             limits=ENERGY, history=True),
    Register("grid_export_today", 3116, Kind.U16, _("Grid export today"), scale=0.1, unit="kWh",
             limits=DAY_ENERGY, history=True),
    Register("grid_export_total", 3121, Kind.U32, _("Grid export total"), scale=0.1, unit="kWh",
             limits=ENERGY, history=True),
    Register("eps_load_power", 3137, Kind.U16, _("Backup (EPS) load power"), unit="W", limits=POWER),
    Register("load_power_l1", 3144, Kind.U16, _("Home load power L1"), unit="W", limits=POWER),
    Register("load_power_l2", 3145, Kind.U16, _("Home load power L2"), unit="W", limits=POWER),
    Register("load_power_l3", 3146, Kind.U16, _("Home load power L3"), unit="W", limits=POWER),
    Register("load_energy_today", 3147, Kind.U16, _("Load energy today"), scale=0.1, unit="kWh",
             limits=DAY_ENERGY, history=True),
    Register("load_energy_total", 3152, Kind.U32, _("Load energy total"), scale=0.1, unit="kWh",
             limits=ENERGY, history=True),
    Register("grid_standard", 3193, Kind.ENUM, _("Grid standard"), choices=GRID_STANDARDS,
             setting=Setting(SYSTEM, screen_instruction=GRID_STANDARD_INSTRUCTION)),
    Register("grid_charge_max_soc", 3260, Kind.U16, _("Grid charging maximum SOC"), unit="%",
             limits=(0, 100), setting=Setting(GRID, 20, 100)),
    Register("battery_discharge_total", 3292, Kind.U32, _("Battery discharge total"), unit="kWh",
             limits=ENERGY, history=True),
    Register("battery_discharge_today", 3294, Kind.U16, _("Battery discharge today"), scale=0.1,
             unit="kWh",
             limits=DAY_ENERGY, history=True),
    Register("battery_charge_total", 3299, Kind.U32, _("Battery charge total"), unit="kWh",
             limits=ENERGY, history=True),
    Register("battery_charge_today", 3301, Kind.U16, _("Battery charge today"), scale=0.1, unit="kWh",
             limits=DAY_ENERGY, history=True),
    Register("grid_charge_enable", 3314, Kind.ENUM, _("Grid charging"), choices=ON_OFF,
             setting=Setting(GRID, confirm=True)),
    Register("grid_charge_start", 3317, Kind.HHMM, _("Grid charging start"), setting=Setting(GRID)),
    Register("grid_charge_end", 3318, Kind.HHMM, _("Grid charging end"), setting=Setting(GRID)),
    # Identity: holding registers (03), except the serial, which is in the input table (04).
    Register("model_name", 3200, Kind.ASCII, _("Model name"), Group.INFO, Table.HOLDING, length=8),
    Register("battery_name", 3208, Kind.ASCII, _("Battery name"), Group.INFO, Table.HOLDING, length=8),
    Register("firmware_arm", 3216, Kind.VERSION, _("ARM firmware"), Group.INFO, Table.HOLDING),
    Register("firmware_dsp", 3217, Kind.VERSION, _("DSP firmware"), Group.INFO, Table.HOLDING),
    Register("serial_number", 3228, Kind.ASCII, _("Inverter serial number"), Group.INFO, length=11),
    # Commands: written, never read.
    Register("restart", 3243, Kind.ENUM, _("Restart the inverter"), Group.COMMAND, choices={1: _("Restart")},
             setting=Setting(SYSTEM, 1, 1, confirm=True)),
]
DERIVED = [
    Derived("pv_power", _("PV power"), ("pv1_power", "pv2_power"), history=True),
    Derived("load_power", _("Home load power"), ("load_power_l1", "load_power_l2", "load_power_l3"),
            history=True),
    Derived("grid_power", _("Grid power"), ("grid_power_l1", "grid_power_l2", "grid_power_l3"),
            history=True),
]
# fmt: on

BY_KEY = {r.key: r for r in REGISTERS}
DERIVED_BY_KEY = {d.key: d for d in DERIVED}
SETTINGS = [r for r in REGISTERS if r.setting is not None]
# History columns of devices.Reading, in the map's order (derived values first).
HISTORY_FIELDS = [d.key for d in DERIVED if d.history] + [r.key for r in REGISTERS if r.history]
# Live values the plant pages sum over the plant's inverters.
PLANT_SUMS = [
    "pv_power",
    "load_power",
    "grid_power",
    "battery_power",
    "pv_energy_today",
    "load_energy_today",
    "grid_import_today",
    "grid_export_today",
]
# The inverter's own day counters (reset at its midnight), by the energy flow they count: the source
# of the portal's energy accounting (energy.accounting), in the order pages show them.
DAY_COUNTERS = {
    "production": "pv_energy_today",
    "consumption": "load_energy_today",
    "grid_export": "grid_export_today",
    "grid_import": "grid_import_today",
    "battery_charge": "battery_charge_today",
    "battery_discharge": "battery_discharge_today",
}


@dataclass(frozen=True)
class Block:
    table: Table
    start: int
    count: int
    registers: tuple[Register, ...]

    @cached_property
    def spans(self) -> tuple[tuple[Register, int, int], ...]:
        """Each register with where its words start and end in the block's."""
        return tuple((r, r.address - self.start, r.address - self.start + r.count) for r in self.registers)

    def decode(self, words: Sequence[int]) -> dict[str, Value]:
        return {r.key: r.decode(words[start:end]) for r, start, end in self.spans}


# What each bit of a bit-word register means to people ({key: {bit: name}}): given at start-up by the
# alarms app, whose catalogue knows the guide's codes (this layer only numbers the bits).
BIT_NAMES: dict[str, dict[int, Text]] = {}


def alarm_bit(code: str) -> int:
    """The bit of the warning (Wnn) or fault (Fnn) word (3049 / 3051) that raises the guide's `code`.

    UNVERIFIED: no public document maps bits to codes; the documented choice is bit n = code n. A
    32-bit word has no bit 32, so F32 (SCI) is bit 31 (docs/hardware-assumptions.md).
    """
    return min(int(code[1:]), 31)


def alarm_word(codes: Iterable[str], prefix: str) -> int:
    """The raw word with the bits of `codes` of one kind ("W" or "F") up: how the simulator raises them."""
    return sum(1 << alarm_bit(code) for code in codes if code.startswith(prefix))


def plan(registers: Iterable[Register]) -> list[Block]:
    """Group `registers` into as few reads as possible, each at most MAX_BLOCK long."""
    blocks = []
    for table in Table:
        regs = sorted((r for r in registers if r.table == table), key=lambda r: r.address)
        current: list[Register] = []
        for reg in regs:
            if current and reg.address + reg.count - current[0].address > MAX_BLOCK:
                blocks.append(_block(table, current))
                current = []
            current.append(reg)
        if current:
            blocks.append(_block(table, current))
    return blocks


def _block(table: Table, regs: Sequence[Register]) -> Block:
    start = regs[0].address
    end = max(r.address + r.count for r in regs)
    return Block(table, start, end - start, tuple(regs))


# Every poll also decodes the inverter's serial (input 3228–3238, inside the live block 3137–3260:
# no extra read), so that each poll is stored under the inverter that answered it.
LIVE_PLAN = plan([*(r for r in REGISTERS if r.group == Group.LIVE), BY_KEY["serial_number"]])
INFO_PLAN = plan([r for r in REGISTERS if r.group == Group.INFO])
# "Lire": the blocks holding every readable setting, read live on demand.
SETTINGS_PLAN = plan([r for r in SETTINGS if r.group != Group.COMMAND])


def sanitise(values: dict[str, Value]) -> list[str]:
    """Drop the values outside their sanity limits, and a grid current that its phase's power and
    voltage contradict; returns the keys dropped (to be logged)."""
    dropped = [key for key, value in values.items() if key in BY_KEY and not BY_KEY[key].sane(value)]
    for key in dropped:
        values[key] = None
    if "grid_current" in values and not _grid_current_checked(values):
        dropped.append("grid_current")
    return dropped


# Grid current 3099 is a signed 16-bit register in mA (the public definition: scale 0.001, rule 2),
# so it spans ±32.767 A, and a house importing more (grid charging at the evening peak: 37 A) reads
# back wrapped by 65.536 A. Whether the inverter wraps or saturates there is UNVERIFIED (no public
# source says): the value is checked against its phase's power and voltage (|P| / V, and the sign of
# P), one wrap is undone when that alone agrees, and a value that still disagrees is not stored.
GRID_CURRENT_WRAP = 65.536
GRID_CHECK_MIN_W = 50  # below this the sign of P is noise and |P| / V says little
POWER_FACTOR_MIN = 0.5  # |I| may exceed |P| / V (reactive power), not by more than this allows


def _grid_current_checked(values: dict[str, Value]) -> bool:
    """Keep, unwrap or drop (None) values["grid_current"]; False when dropped."""
    current, power, voltage = (
        values.get("grid_current"),
        values.get("grid_power_l1"),
        values.get("grid_voltage"),
    )
    if current is None or power is None or not voltage or abs(power) < GRID_CHECK_MIN_W:
        return True
    active = abs(power) / voltage  # the least current that carries this power

    def agrees(amps: float) -> bool:
        same_sign = (amps > 0) == (power > 0)
        return same_sign and 0.9 * active - 0.5 <= abs(amps) <= active / POWER_FACTOR_MIN + 0.5

    for candidate in (current, current + GRID_CURRENT_WRAP, current - GRID_CURRENT_WRAP):
        if agrees(candidate):
            values["grid_current"] = round(candidate, 3)
            return True
    log.warning(
        "Grid current %s A disagrees with grid power %s W at %s V: not stored", current, power, voltage
    )
    values["grid_current"] = None
    return False


def live_values(values: dict[str, Value]) -> dict[str, Value]:
    """Decoded values plus the derived ones (sums), as stored in InverterLive.values."""
    live = {k: v for k, v in values.items() if BY_KEY.get(k) is None or BY_KEY[k].group == Group.LIVE}
    for derived in DERIVED:
        live[derived.key] = derived.compute(values)
    return live


def describe(latest: dict[str, Value]) -> list[dict[str, Value]]:
    """Every live value in `latest`, in the map's order, as people read it (enum words, units):
    what the inverter page and the API show."""
    rows = []
    items: list[Derived | Register] = [*DERIVED, *(r for r in REGISTERS if r.group == Group.LIVE)]
    for item in items:
        if item.key in latest:
            value = latest[item.key]
            rows.append(
                {
                    "key": item.key,
                    "label": str(item.label),
                    "value": value,
                    "text": str(item.display(value)),
                    "unit": item.unit,
                }
            )
    return rows
