"""A fleet of simulated AURA inverters behind simulated dataloggers, on real TCP sockets.

Each `SimulatedInverter` behaves like a plant: PV follows the sun's elevation at the plant's latitude
and longitude (southern hemisphere and solar noon included), the household draws a daily load curve,
the battery charges and discharges by working mode, power limits and SOC, the grid balances the rest
within the inverter's AC rating, and energy counters integrate the powers.

It answers as the public KSTAR definition describes the real device (devices.registermap): identity
in holding 3200–3217 and the serial in input 3228–3238, grid power raw positive on export, hex-coded
grid-charge times, Modbus exception 02 outside the published register ranges, writes (function 06)
only at the registers the public definition writes, 03 for a value out of range. Behaviour the public
sources do not describe is marked UNVERIFIED where it is chosen.

`FleetSimulator` serves them: Solarman V5 loggers on one port told apart by their serial number,
Modbus TCP devices by (port, unit id). Per device, tests and the demo can inject warning and fault
codes, latency, a dropped connection, a timeout, garbage, a Modbus exception, an inverter that sleeps
or does not answer its stick, and remote control switched on or off on the inverter's screen.
"""

import asyncio
import contextlib
import math
import random
import struct
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import elevation
from umodbus.client.serial.redundancy_check import add_crc, validate_crc

from . import v5
from .registermap import (
    HOLDING_RANGE,
    INPUT_RANGE,
    MODEL_NAMES,
    RATED_POWER_W,
    REGISTERS,
    Group,
    Table,
    alarm_word,
)
from .transport import GATEWAY_NO_RESPONSE, NO_INVERTER_PAYLOAD

MIN_SOC = 10.0  # % the battery keeps in reserve
TABLE_REGISTERS = {
    table: [r for r in REGISTERS if r.table == table and r.group != Group.COMMAND] for table in Table
}
# Modbus exception codes.
ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE, DEVICE_FAILURE = 1, 2, 3, 4
# UNVERIFIED: no public source says how the inverter refuses a write while remote control is off
# on its screen. The simulator answers "device failure"; the portal words any refusal of an allowed
# write the same way (remote control may be off: the guide's instruction).
EXCEPTION_REMOTE_DISABLED = DEVICE_FAILURE


class Behaviour:
    """What a device does with the next requests, beyond answering them."""

    NORMAL = "normal"
    DROP = "drop"  # send half a reply, then hang up
    TIMEOUT = "timeout"  # never answer
    GARBAGE = "garbage"  # answer with a corrupt frame
    EXCEPTION = "exception"  # answer every request with Modbus exception 04
    ASLEEP = "asleep"  # the inverter sleeps whatever the time: the stick answers 05 00
    UNPLUGGED = "unplugged"  # RS485 between stick and inverter broken: the stick answers 05 00
    NO_IDENTITY = "no_identity"  # the identity registers answer exception 02 (the live ones answer)


# Settings the simulated inverter starts with, by register key (physical values).
DEFAULT_SETTINGS = {
    "working_mode": 0,
    "discharge_limit": 100,
    "charge_limit": 100,
    "grid_charge_max_soc": 90,
    "grid_charge_enable": 0,
    "grid_charge_start": "02:00",
    "grid_charge_end": "05:00",
}


@dataclass
class SimulatedInverter:
    logger_serial: int
    inverter_serial: str
    kwp: float = 6.0
    battery_kwh: float = 10.0
    tz: str = "Europe/Paris"
    latitude: float = 45.76  # Lyon
    longitude: float = 4.84
    unit_id: int = 1
    model_code: int = 12  # BluE-S 6000D
    seed: int = 0
    soc: float = 60.0
    # An AC-coupled retrofit: the existing PV inverter's kWp on the house's AC side. AURA does not
    # read it; its power shows only in the grid and load balance (how the real KSTAR meters it is
    # unverified: no public source says).
    ac_pv_kwp: float = 0.0
    ac_pv_kwh: float = 0.0  # what that inverter produced, known to the simulator only
    remote_control: bool = False  # on the inverter's screen: CONTRÔLE À DISTANCE
    # The grid clamp mounted backwards: the inverter measures the grid flow with the wrong sign.
    # UNVERIFIED which readings follow it on a real KSTAR: here the instantaneous grid power and
    # current do, the day counters stay true (as a meter's would); the inverter's own W28 is not
    # raised (when the firmware raises it is not public) unless a test raises it.
    ct_reversed: bool = False
    grid_standard: int = 14  # EN 50549, set on the screen
    warning_bits: int = 0
    fault_bits: int = 0
    latency: float = 0.0
    behaviour: str = Behaviour.NORMAL
    sleeps_at_night: bool = True
    # Values forced by a test, by register key, in physical units.
    overrides: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)
    settings: dict = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    writes: list = field(default_factory=list)  # (address, raw value) of every write the device received
    reads: list = field(default_factory=list)  # (function, address) of every read the device answered
    restarts: int = 0
    # A test's line that drops after this many more accepted writes (then every request is DROP).
    drop_after_writes: int | None = None
    _last_step: datetime | None = None
    _powers: dict = field(default_factory=dict)

    def __post_init__(self):
        rng = random.Random(self.seed or self.logger_serial)
        self._load_scale = rng.uniform(0.7, 1.4)
        self._observer = Observer(self.latitude, self.longitude)
        self.rated_w = RATED_POWER_W.get(self.model_code, 5000)
        # Years of history already on the counters, as on an inverter in service.
        years = rng.uniform(0.5, 4)
        self.counters = {
            "pv_energy_total": round(self.kwp * 1100 * years, 1),
            "load_energy_total": round(4200 * years * self._load_scale, 1),
            "grid_import_total": round(2100 * years, 1),
            "grid_export_total": round(1500 * years, 1),
            "battery_charge_total": round(self.battery_kwh * 250 * years, 1),
            "battery_discharge_total": round(self.battery_kwh * 240 * years, 1),
            **dict.fromkeys(TODAY_COUNTERS, 0.0),
        }

    # -- physics -------------------------------------------------------------------------------
    def sun(self, now):
        """PV fraction of kWp under a clear sky: from the sun's elevation at the plant."""
        height = elevation(self._observer, now)
        if height <= 0:
            return 0.0
        return 0.85 * math.sin(math.radians(height)) ** 1.2

    def _load(self, local):
        """Household draw in W: a base, a morning and a larger evening peak."""
        h = local.hour + local.minute / 60
        load = 250 + 900 * math.exp(-((h - 7.5) ** 2) / 1.5) + 1600 * math.exp(-((h - 19.5) ** 2) / 3)
        return load * self._load_scale

    def _in_grid_charge_window(self, local):
        start, end = (self.settings[k] for k in ("grid_charge_start", "grid_charge_end"))
        now = f"{local.hour:02d}:{local.minute:02d}"
        return start <= now < end if start <= end else now >= start or now < end

    def _battery_power(self, local, pv, load):
        """Battery power in W, positive = discharge, within the power limits and the AC rating."""
        max_w = min(self.battery_kwh * 500, self.rated_w)  # 0.5 C, never above the inverter's rating
        max_charge = max_w * self.settings["charge_limit"] / 100
        max_discharge = max_w * self.settings["discharge_limit"] / 100
        mode = self.settings["working_mode"]
        grid_charge = self.settings["grid_charge_enable"] and self._in_grid_charge_window(local)
        if grid_charge and self.soc < self.settings["grid_charge_max_soc"]:
            return -max_charge  # cheap hours fill the battery from the grid
        if pv > load and self.soc < 100:
            return -min(pv - load, max_charge)
        if pv < load and self.soc > MIN_SOC and mode != 2:  # battery priority keeps it for backup
            return min(load - pv, max_discharge)
        return 0

    def step(self, now):
        """Advance the plant to `now`: powers for this instant, counters integrated since last step."""
        if self._last_step is None:
            self._start_of_day(now)
        local = now.astimezone(ZoneInfo(self.tz))
        if self._last_step and local.date() != self._last_step.astimezone(ZoneInfo(self.tz)).date():
            for key in TODAY_COUNTERS:
                self.counters[key] = 0.0
        pv = round(self.kwp * 1000 * self.sun(now))
        ac_pv = round(self.ac_pv_kwp * 1000 * self.sun(now))
        load = round(self._load(local))
        battery = round(self._battery_power(local, pv + ac_pv, load))
        # The inverter's AC side carries PV and battery; above its rating, PV is curtailed.
        pv = max(0, min(pv, self.rated_w - battery)) if pv + battery > self.rated_w else pv
        grid = load - pv - ac_pv - battery  # positive = import
        if self._last_step:
            hours = max(0.0, (now - self._last_step).total_seconds()) / 3600
            self.soc = min(100.0, max(0.0, self.soc - battery * hours / (self.battery_kwh * 10)))
            for key, watts in (
                ("pv_energy", pv),
                ("load_energy", load),
                ("grid_import", max(grid, 0)),
                ("grid_export", max(-grid, 0)),
                ("battery_charge", max(-battery, 0)),
                ("battery_discharge", max(battery, 0)),
            ):
                kwh = watts * hours / 1000
                self.counters[f"{key}_total"] += kwh
                self.counters[f"{key}_today"] += kwh
            self.ac_pv_kwh += ac_pv * hours / 1000
        self._last_step = now
        self._powers = {"pv": pv, "load": load, "battery": battery, "grid": grid}

    def refresh(self, now):
        """Step the physics unless it was stepped within the last second (one poll reads 3 blocks)."""
        if self._last_step is None or (now - self._last_step).total_seconds() > 1:
            self.step(now)

    def _start_of_day(self, now):
        """A simulator started mid-day: integrate today so far, in half-hour steps, so that the
        day's counters look like those of an inverter that was running since midnight."""
        local = now.astimezone(ZoneInfo(self.tz))
        moment = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)
        self._last_step = moment
        while (now - moment).total_seconds() > 1800:
            moment += timedelta(minutes=30)
            self.step(moment)

    @property
    def answers_stick(self):
        """False when the stick gets no answer from the inverter (it answers `05 00` instead)."""
        if self.behaviour in (Behaviour.ASLEEP, Behaviour.UNPLUGGED):
            return False
        p = self._powers
        return not (self.sleeps_at_night and p.get("pv", 1) == 0 and self.soc <= MIN_SOC)

    def raise_codes(self, *codes):
        """Raise alarm codes (F.., W..) through the inverter's words, as the register map numbers them."""
        self.warning_bits = alarm_word(codes, "W")
        self.fault_bits = alarm_word(codes, "F")

    def values(self):
        """Every register's physical value now, as the portal should decode it."""
        p = self._powers
        pv1 = round(p["pv"] * 0.55)
        pv2 = p["pv"] - pv1
        batt_v = 51.2 + self.soc * 0.04
        c = self.counters
        status = 7 if self.fault_bits else 2  # fault / on grid (hybrid)
        v = {
            "pv1_voltage": 360.0 if pv1 else 0.0,
            "pv2_voltage": 355.0 if pv2 else 0.0,
            "pv1_current": round(pv1 / 360, 2),
            "pv2_current": round(pv2 / 355, 2),
            "pv1_power": pv1,
            "pv2_power": pv2,
            "model_code": self.model_code,
            "system_status": status,
            "inverter_status": 2,
            "dcdc_status": 3 if p["battery"] > 0 else 2 if p["battery"] < 0 else 0,
            "warning_bits": self.warning_bits,
            "fault_bits": self.fault_bits,
            "inverter_temperature": 38.5,
            "battery_type": 6,
            "battery_voltage": round(batt_v, 2),
            "battery_current": round(p["battery"] / batt_v, 1),
            "battery_power": p["battery"],
            "battery_soc": round(self.soc, 1),
            "battery_temperature": 24.5,
            "battery_depth_of_discharge": 90,
            "battery_soh": 98.0,
            "grid_voltage": 231.4,
            "grid_frequency": 50.0,
            "grid_current": round(p["grid"] / 231.4, 3),
            "grid_power_l1": p["grid"],
            "grid_power_l2": 0,
            "grid_power_l3": 0,
            "eps_load_power": 0,
            "load_power_l1": p["load"],
            "load_power_l2": 0,
            "load_power_l3": 0,
            "grid_standard": self.grid_standard,
            "model_name": MODEL_NAMES.get(self.model_code, ""),
            "battery_name": f"AURA {round(self.battery_kwh)}KM-BG",
            "firmware_arm": "1.2.3",
            "firmware_dsp": "2.0.7",
            "serial_number": self.inverter_serial,
            **self.settings,
        }
        for key in TODAY_COUNTERS:
            v[key] = round(c[key], 1)
        for key in ("pv_energy", "load_energy", "grid_import", "grid_export"):
            v[f"{key}_total"] = round(c[f"{key}_total"], 1)
        v["battery_charge_total"] = int(c["battery_charge_total"])
        v["battery_discharge_total"] = int(c["battery_discharge_total"])
        v.update(self.overrides)
        if self.ct_reversed:
            for key in ("grid_power_l1", "grid_power_l2", "grid_power_l3", "grid_current"):
                v[key] = -v[key]
        return v

    def words(self, table):
        """Register address → 16-bit word of `table`, encoded from the register map.

        Built per request rather than cached, so that an injected bit or setting shows at once.
        """
        values = self.values()
        words = {}
        for reg in TABLE_REGISTERS[table]:
            for i, word in enumerate(reg.encode(values[reg.key])):
                words[reg.address + i] = word
        return words

    def write(self, address, word):
        """Apply a function-06 write; returns a Modbus exception code, or None when accepted."""
        self.writes.append((address, word))
        reg = WRITABLE_AT.get(address)
        if reg is None:
            return ILLEGAL_ADDRESS
        if not self.remote_control:
            return EXCEPTION_REMOTE_DISABLED
        value = reg.decode([word])
        if not reg.allows(value):
            return ILLEGAL_VALUE
        if reg.key == "restart":
            self.restarts += 1
        else:
            self.settings[reg.key] = value
        if self.drop_after_writes is not None:
            self.drop_after_writes -= 1
            if self.drop_after_writes <= 0:
                self.behaviour, self.drop_after_writes = Behaviour.DROP, None
        return None


TODAY_COUNTERS = [
    "pv_energy_today",
    "load_energy_today",
    "grid_import_today",
    "grid_export_today",
    "battery_charge_today",
    "battery_discharge_today",
]
WRITABLE_AT = {r.address: r for r in REGISTERS if r.writable}
TABLE_RANGES = {Table.INPUT: INPUT_RANGE, Table.HOLDING: HOLDING_RANGE}


def _read_pdu(device, function, address, count):
    table = Table.INPUT if function == 4 else Table.HOLDING
    if not 1 <= count <= 125:
        return bytes([function | 0x80, ILLEGAL_VALUE])
    valid = TABLE_RANGES[table]
    if address not in valid or address + count - 1 not in valid:
        return bytes([function | 0x80, ILLEGAL_ADDRESS])
    if device.behaviour == Behaviour.NO_IDENTITY and _overlaps_identity(table, address, count):
        return bytes([function | 0x80, ILLEGAL_ADDRESS])
    words = device.words(table)
    data = [words.get(a, 0) for a in range(address, address + count)]
    return struct.pack(f">BB{count}H", function, count * 2, *data)


IDENTITY = [r for r in REGISTERS if r.group == Group.INFO]


def _overlaps_identity(table, address, count):
    """A read of the identity block itself (the live blocks that span 3228–3238 still answer)."""
    return any(r.table == table and r.address == address for r in IDENTITY)


def handle_pdu(device, pdu, now, behaviour):
    """Answer one Modbus PDU for `device` (functions 03, 04 and 06), behaving as `behaviour` (the
    simulator's draw for this request: `FleetSimulator._behaviour_now`)."""
    if behaviour == Behaviour.EXCEPTION:
        return bytes([pdu[0] | 0x80, DEVICE_FAILURE])
    device.refresh(now)
    function = pdu[0]
    if function in (3, 4):
        address, count = struct.unpack(">HH", pdu[1:5])
        device.reads.append((function, address))
        return _read_pdu(device, function, address, count)
    if function == 6:
        address, value = struct.unpack(">HH", pdu[1:5])
        error = device.write(address, value)
        return bytes([0x86, error]) if error else pdu[:5]
    # UNVERIFIED: the public definition writes with 06 only; what the device does with 16 is not
    # published, so the simulator refuses it and the portal never sends it.
    return bytes([function | 0x80, ILLEGAL_FUNCTION])


class FleetSimulator:
    """Serves simulated devices on 127.0.0.1: V5 on one port, Modbus TCP on one or more ports."""

    def __init__(
        self, host="127.0.0.1", clock=None, accept_any_serial=False, heartbeat_seconds=120, fault_rate=0.0
    ):
        self.host = host
        self.fault_rate = fault_rate
        self.heartbeat_seconds = heartbeat_seconds
        self.clock = clock or (lambda: datetime.now(UTC))
        self.accept_any_serial = accept_any_serial
        self.v5_devices = {}
        self.tcp_devices = {}
        self.call_in_tasks = []
        self.servers = []
        self.v5_port = None
        self.tcp_ports = []
        self.requests = 0

    def add_v5(self, device):
        self.v5_devices[device.logger_serial] = device
        return device

    def add_tcp(self, device, port):
        self.tcp_devices[(port, device.unit_id)] = device
        return device

    async def start(self, v5_port=0, tcp_ports=(0,)):
        server = await asyncio.start_server(self._serve_v5, self.host, v5_port, backlog=4096)
        self.v5_port = server.sockets[0].getsockname()[1]
        self.servers.append(server)
        for port in tcp_ports:
            server = await asyncio.start_server(self._serve_tcp, self.host, port, backlog=4096)
            self.tcp_ports.append(server.sockets[0].getsockname()[1])
            self.servers.append(server)
        # Devices registered on port 0 move to the first real Modbus TCP port.
        for (port, unit), device in list(self.tcp_devices.items()):
            if port == 0:
                del self.tcp_devices[(port, unit)]
                self.tcp_devices[(self.tcp_ports[0], unit)] = device

    async def stop(self):
        for task in self.call_in_tasks:
            task.cancel()
        self.call_in_tasks = []
        for server in self.servers:
            server.close()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1)
        self.servers = []

    async def _misbehave(self, device, writer, reply, behaviour):
        """Apply the injected behaviour; True when the normal reply must not be sent."""
        if device.latency:
            await asyncio.sleep(device.latency)
        if behaviour == Behaviour.TIMEOUT:
            await asyncio.sleep(3600)
        if behaviour == Behaviour.DROP:
            writer.write(reply[: len(reply) // 2])
            await writer.drain()
            writer.transport.abort()
            return True
        return False

    async def _serve_v5(self, reader, writer):
        """One stick connection: answer each request frame; send a heartbeat now and then, as sticks do."""
        stick = {"serial": 0}  # learned from the first request: one port serves many sticks
        beat = asyncio.create_task(self._heartbeats(writer, stick))
        with contextlib.suppress(
            ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError, v5.FrameError
        ):
            while True:
                raw = await v5.read_frame(reader)
                if v5.control_of(raw) != v5.REQUEST:
                    continue  # not a request: a real stick ignores it too
                self.requests += 1
                stick["serial"] = v5.serial_of(raw)
                device = self._v5_device(stick["serial"])
                behaviour = self._behaviour_now(device)
                reply = self.v5_reply(device, raw, behaviour)
                if reply is None:
                    continue
                if device is not None and await self._misbehave(device, writer, reply, behaviour):
                    return
                writer.write(reply)
                await writer.drain()
        beat.cancel()
        writer.close()

    async def _heartbeats(self, writer, stick):
        """The stick's own heartbeat frame every `heartbeat_seconds` (120 s on real sticks)."""
        with contextlib.suppress(ConnectionError, asyncio.CancelledError, RuntimeError):
            sequence = 0
            while self.heartbeat_seconds:
                await asyncio.sleep(self.heartbeat_seconds)
                sequence = (sequence + 1) & 0xFFFF
                writer.write(v5.heartbeat(sequence, stick["serial"]))
                await writer.drain()

    FAULTS = (Behaviour.GARBAGE, Behaviour.DROP, Behaviour.TIMEOUT, Behaviour.EXCEPTION)

    def _behaviour_now(self, device):
        """The device's behaviour for this request: its own, or one of the four faults drawn with
        probability `fault_rate` each (a soak's unreliable network and inverters)."""
        if device is None or not self.fault_rate:
            return getattr(device, "behaviour", Behaviour.NORMAL)
        draw = random.random()
        for i, fault in enumerate(self.FAULTS):
            if draw < self.fault_rate * (i + 1):
                return fault
        return device.behaviour

    def v5_reply(self, device, raw, behaviour):
        """The stick's reply frame to the request frame `raw` (None: a stick says nothing), behaving
        as `behaviour`."""
        sequence, serial = struct.unpack("<HI", raw[5:11])
        rtu = raw[26:-2]
        if device is None:
            # Another stick's serial: answer as a stick would, with a serial that does not match.
            return v5.frame(v5.REPLY, sequence, 0, bytes(14) + rtu)
        now = self.clock()
        device.refresh(now)
        if not validate_crc_ok(rtu):
            return None
        if not device.answers_stick:
            payload = NO_INVERTER_PAYLOAD
        else:
            payload = add_crc(rtu[:1] + handle_pdu(device, rtu[1:-2], now, behaviour))
        reply = v5.frame(v5.REPLY, sequence, serial, b"\x02\x01" + bytes(12) + payload)
        if behaviour == Behaviour.GARBAGE:
            reply = reply[:-2] + bytes([(reply[-2] + 1) & 0xFF, v5.END])  # bad checksum
        return reply

    async def call_in(self, host, port, devices=None, *, backoff=1.0, others=()):
        """Make simulated sticks call a logger hub in (their Server B), each on its own connection,
        reconnecting after a drop with backoff; returns the tasks (cancel them to stop). With
        `others` ([(host, port)]), the sticks are spread over every address and each goes to the
        next one after a drop, as through a TCP load balancer in front of several hubs (a real
        stick has one Server B address)."""
        devices = list(self.v5_devices.values()) if devices is None else devices
        addresses = [(host, port), *others]
        tasks = [asyncio.create_task(self._call_in_forever(device, addresses, backoff)) for device in devices]
        self.call_in_tasks.extend(tasks)
        return tasks

    async def _call_in_forever(self, device, addresses, backoff):
        # UNVERIFIED: how soon a real stick calls in again after a drop (docs/hardware-assumptions.md).
        delay, turn = backoff, device.logger_serial % len(addresses)
        while True:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, v5.FrameError):
                reader, writer = await asyncio.open_connection(*addresses[turn % len(addresses)])
                delay = backoff
                try:
                    await self._serve_hub(device, reader, writer)
                finally:
                    writer.transport.abort()
            turn += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)

    async def _serve_hub(self, device, reader, writer):
        """One called-in connection: announce the stick (its heartbeat carries the serial), then answer
        the hub's requests as on port 8899 and skip the server's answers to the stick's own frames."""
        writer.write(v5.heartbeat(1, device.logger_serial))
        await writer.drain()
        beat = asyncio.create_task(self._heartbeats(writer, {"serial": device.logger_serial}))
        try:
            while True:
                raw = await v5.read_frame(reader)
                if v5.control_of(raw) != v5.REQUEST:
                    continue
                self.requests += 1
                behaviour = self._behaviour_now(device)
                reply = self.v5_reply(device, raw, behaviour)
                if reply is None:
                    continue
                if await self._misbehave(device, writer, reply, behaviour):
                    return
                writer.write(reply)
                await writer.drain()
        finally:
            beat.cancel()

    def _v5_device(self, serial):
        device = self.v5_devices.get(serial)
        if device is None and self.accept_any_serial:
            device = self.add_v5(SimulatedInverter(serial, f"AU{serial:010d}"[:22]))
        return device

    async def _serve_tcp(self, reader, writer):
        port = writer.get_extra_info("sockname")[1]
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            while True:
                tid, pid, length, unit = struct.unpack(">HHHB", await reader.readexactly(7))
                pdu = await reader.readexactly(length - 1)
                self.requests += 1
                device = self.tcp_devices.get((port, unit))
                behaviour = self._behaviour_now(device)
                now = self.clock()
                if device is None:
                    reply_pdu = bytes([pdu[0] | 0x80, GATEWAY_NO_RESPONSE])
                else:
                    device.refresh(now)
                    if not device.answers_stick:
                        reply_pdu = bytes([pdu[0] | 0x80, GATEWAY_NO_RESPONSE])
                    else:
                        reply_pdu = handle_pdu(device, pdu, now, behaviour)
                reply = struct.pack(">HHHB", tid, pid, len(reply_pdu) + 1, unit) + reply_pdu
                if device is not None:
                    if behaviour == Behaviour.GARBAGE:
                        reply = b"\xde\xad\xbe\xef" * 4  # not even an MBAP header
                    if await self._misbehave(device, writer, reply, behaviour):
                        return
                writer.write(reply)
                await writer.drain()
        writer.close()


def validate_crc_ok(rtu):
    try:
        validate_crc(rtu)
    except Exception:
        return False
    return True


class SimulatorThread:
    """Runs a FleetSimulator on its own event loop in a thread (tests and benchmarks)."""

    def __init__(self, simulator, v5_port=0, tcp_ports=(0,)):
        self.simulator = simulator
        self.loop = asyncio.new_event_loop()
        self._ports = (v5_port, tcp_ports)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.simulator.start(*self._ports), self.loop).result(10)
        return self.simulator

    def call(self, fn, *args):
        """Run `fn` on the simulator's loop, so that device state never changes mid-request."""
        return asyncio.run_coroutine_threadsafe(_call(fn, *args), self.loop).result(10)

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.simulator.stop(), self.loop).result(10)
        asyncio.run_coroutine_threadsafe(_cancel_connections(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


async def _call(fn, *args):
    return fn(*args)


async def _cancel_connections():
    """End the connections still open (a device told to time out holds one forever)."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
