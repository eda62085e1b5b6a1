"""A fleet of simulated AURA inverters behind simulated dataloggers, on real TCP sockets.

Each `SimulatedInverter` behaves like a plant: PV follows the sun for its time zone and kWp, the
household draws a daily load curve, the battery charges and discharges by working mode and SOC
limits, the grid balances the rest, and energy counters integrate the powers. Its registers are
produced from the one register map (devices.registermap), so the portal decodes what it encodes.

`FleetSimulator` serves them: Solarman V5 loggers on one port told apart by their serial number,
Modbus TCP devices by (port, unit id). Per device, tests and the demo can inject warning and fault
bits, latency, a dropped connection, a timeout, garbage, a Modbus exception, night sleep, and
enable or disable remote control.
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

from umodbus.client.serial.redundancy_check import add_crc, validate_crc

from .registermap import (
    EXCEPTION_REMOTE_DISABLED,
    REGISTERS,
    REMOTE_CONTROL,
    REMOTE_CONTROL_ENABLED,
    Group,
    Table,
)
from .transport import ASLEEP_PAYLOAD, GATEWAY_NO_RESPONSE

V5_START, V5_END = 0xA5, 0x15
V5_REQUEST, V5_REPLY = 0x4510, 0x1510
MIN_SOC = 10.0  # % the battery keeps in reserve
TABLE_REGISTERS = {table: [r for r in REGISTERS if r.table == table] for table in Table}


class Behaviour:
    """What a device does with the next requests, beyond answering them."""

    NORMAL = "normal"
    DROP = "drop"  # send half a reply, then hang up
    TIMEOUT = "timeout"  # never answer
    GARBAGE = "garbage"  # answer with a corrupt frame
    EXCEPTION = "exception"  # answer every request with Modbus exception 04
    ASLEEP = "asleep"  # the inverter sleeps: the stick answers 05 00


@dataclass
class SimulatedInverter:
    logger_serial: int
    inverter_serial: str
    kwp: float = 6.0
    battery_kwh: float = 10.0
    tz: str = "Europe/Paris"
    unit_id: int = 1
    model_code: int = 10
    seed: int = 0
    soc: float = 60.0
    working_mode: int = 0
    remote_control: int = 1
    warning_bits: int = 0
    fault_bits: int = 0
    latency: float = 0.0
    behaviour: str = Behaviour.NORMAL
    sleeps_at_night: bool = True
    # Values forced by a test, by register key, in physical units.
    overrides: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    _last_step: datetime | None = None
    _powers: dict = field(default_factory=dict)

    def __post_init__(self):
        rng = random.Random(self.seed or self.logger_serial)
        self._rng = rng
        self._load_scale = rng.uniform(0.7, 1.4)
        # Years of history already on the counters, as on an inverter in service.
        years = rng.uniform(0.5, 4)
        self.counters = {
            "pv_energy_total": round(self.kwp * 1100 * years, 1),
            "load_energy_total": round(4200 * years * self._load_scale, 1),
            "grid_import_total": round(2100 * years, 1),
            "grid_export_total": round(1500 * years, 1),
            "battery_charge_total": round(self.battery_kwh * 250 * years, 1),
            "battery_discharge_total": round(self.battery_kwh * 240 * years, 1),
            "pv_energy_today": 0.0,
            "load_energy_today": 0.0,
            "grid_import_today": 0.0,
            "grid_export_today": 0.0,
            "battery_charge_today": 0.0,
            "battery_discharge_today": 0.0,
        }
        self.settings = {
            "setting_working_mode": self.working_mode,
            "setting_eps": 0,
            "setting_ac_coupling": 0,
            "setting_grid_code": 14,
        }

    # -- physics -------------------------------------------------------------------------------
    def _sun(self, local):
        """PV fraction of kWp: a clear-sky bell between a seasonal sunrise and sunset."""
        doy = local.timetuple().tm_yday
        day_length = 12 + 4 * math.sin(2 * math.pi * (doy - 80) / 365)
        hour = local.hour + local.minute / 60 + local.second / 3600
        sunrise = 13 - day_length / 2  # solar noon near 13:00 in France's legal time
        x = (hour - sunrise) / day_length
        if not 0 < x < 1:
            return 0.0
        season = 0.65 + 0.35 * math.sin(2 * math.pi * (doy - 80) / 365)
        return 0.85 * season * math.sin(math.pi * x) ** 1.5

    def _load(self, local):
        """Household draw in W: a base, a morning and a larger evening peak."""
        h = local.hour + local.minute / 60
        load = 250 + 900 * math.exp(-((h - 7.5) ** 2) / 1.5) + 1600 * math.exp(-((h - 19.5) ** 2) / 3)
        return load * self._load_scale

    def step(self, now):
        """Advance the plant to `now`: powers for this instant, counters integrated since last step."""
        if self._last_step is None:
            self._start_of_day(now)
        local = now.astimezone(ZoneInfo(self.tz))
        if self._last_step and local.date() != self._last_step.astimezone(ZoneInfo(self.tz)).date():
            for key in self.counters:
                if key.endswith("_today"):
                    self.counters[key] = 0.0
        pv = round(self.kwp * 1000 * self._sun(local))
        load = round(self._load(local))
        max_batt = self.battery_kwh * 500  # 0.5 C
        mode = self.settings["setting_working_mode"]
        battery = 0  # positive = discharge
        if mode == 1 and 2 <= local.hour < 5 and self.soc < 90:
            battery = -max_batt  # time-of-use: cheap night hours fill the battery from the grid
        elif pv > load and self.soc < 100:
            battery = -min(pv - load, max_batt)
        elif pv < load and self.soc > MIN_SOC and mode != 2:
            battery = min(load - pv, max_batt)  # battery priority keeps its charge for backup
        battery = round(battery)
        grid = load - pv - battery  # positive = import
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
    def asleep(self):
        if self.behaviour == Behaviour.ASLEEP:
            return True
        p = self._powers
        return self.sleeps_at_night and p.get("pv", 1) == 0 and self.soc <= MIN_SOC

    def values(self):
        """Every register's physical value now, as the portal should decode it."""
        p = self._powers
        pv1 = round(p["pv"] * 0.55)
        pv2 = p["pv"] - pv1
        batt_v = 51.2 + self.soc * 0.04
        c = self.counters
        v = {
            "pv1_voltage": 360.0 if pv1 else 0.0,
            "pv2_voltage": 355.0 if pv2 else 0.0,
            "pv1_current": round(pv1 / 360, 2),
            "pv2_current": round(pv2 / 355, 2),
            "pv1_power": pv1,
            "pv2_power": pv2,
            "working_mode": self.settings["setting_working_mode"],
            "model_code": self.model_code,
            "system_status": 2 if self.fault_bits else 1,
            "inverter_status": 3 if self.fault_bits else 1,
            "dcdc_status": 1,
            "warning_bits": self.warning_bits,
            "fault_bits": self.fault_bits,
            "battery_voltage": round(batt_v, 2),
            "battery_current": round(p["battery"] / batt_v, 1),
            "battery_power": p["battery"],
            "battery_soc": round(self.soc, 1),
            "battery_temperature": 24.5,
            "battery_soh": 98.0,
            "discharge_limit": 100,
            "charge_limit": 100,
            "grid_voltage": 231.4,
            "grid_frequency": 50.0,
            "grid_current": round(p["grid"] / 231.4, 3),
            "grid_power": p["grid"],
            "grid_power_l2": 0,
            "grid_power_l3": 0,
            "eps_load_power": 0,
            "load_power_l1": p["load"],
            "load_power_l2": 0,
            "load_power_l3": 0,
            "grid_standard": self.settings["setting_grid_code"],
            "grid_charge_enable": 1 if self.settings["setting_working_mode"] == 1 else 0,
            "grid_charge_start": 200,
            "grid_charge_end": 500,
            "model_name": f"AURA{self.model_code}KM",
            "battery_name": f"AURA{round(self.battery_kwh)}BG",
            "firmware_arm": "V1.4",
            "firmware_dsp": "V2.1",
            "serial_number": self.inverter_serial,
            "remote_control": self.remote_control,
            **self.settings,
        }
        for key in ("pv_energy", "load_energy", "grid_import", "grid_export"):
            v[f"{key}_today"] = round(c[f"{key}_today"], 1)
            v[f"{key}_total"] = round(c[f"{key}_total"], 1)
        v["battery_charge_today"] = round(c["battery_charge_today"], 1)
        v["battery_discharge_today"] = round(c["battery_discharge_today"], 1)
        v["battery_charge_total"] = int(c["battery_charge_total"])
        v["battery_discharge_total"] = int(c["battery_discharge_total"])
        v.update(self.overrides)
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

    def write(self, address, value):
        """Apply a write; returns a Modbus exception code, or None when accepted."""
        if address == REMOTE_CONTROL.address:
            self.remote_control = value
        else:
            reg = next((r for r in REGISTERS if r.address == address and r.group == Group.SETTINGS), None)
            if reg is None or not reg.writable:
                return 2  # illegal data address
            if self.remote_control != REMOTE_CONTROL_ENABLED:
                return EXCEPTION_REMOTE_DISABLED
            if reg.choices and value not in reg.choices:
                return 3  # illegal data value
            self.settings[reg.key] = value
        return None


def _read_pdu(device, function, address, count):
    table = Table.INPUT if function == 4 else Table.HOLDING
    if not 1 <= count <= 125:
        return bytes([function | 0x80, 3])
    words = device.words(table)
    data = [words.get(a, 0) for a in range(address, address + count)]
    return struct.pack(f">BB{count}H", function, count * 2, *data)


def handle_pdu(device, pdu, now):
    """Answer one Modbus PDU for `device` (functions 03, 04, 06, 16)."""
    if device.behaviour == Behaviour.EXCEPTION:
        return bytes([pdu[0] | 0x80, 4])
    device.refresh(now)
    function = pdu[0]
    if function in (3, 4):
        address, count = struct.unpack(">HH", pdu[1:5])
        return _read_pdu(device, function, address, count)
    if function == 6:
        address, value = struct.unpack(">HH", pdu[1:5])
        error = device.write(address, value)
        return bytes([0x86, error]) if error else pdu[:5]
    if function == 16:
        address, count = struct.unpack(">HH", pdu[1:5])
        values = struct.unpack(f">{count}H", pdu[6 : 6 + count * 2])
        for i, value in enumerate(values):
            if error := device.write(address + i, value):
                return bytes([0x90, error])
        return pdu[:5]
    return bytes([function | 0x80, 1])


def v5_checksum(frame):
    return sum(frame[1:-2]) & 0xFF


def v5_frame(control, sequence, serial, payload):
    frame = bytearray(struct.pack("<BHHHI", V5_START, len(payload), control, sequence, serial))
    frame += payload + b"\x00\x15"
    frame[-2] = v5_checksum(frame)
    return bytes(frame)


class FleetSimulator:
    """Serves simulated devices on 127.0.0.1: V5 on one port, Modbus TCP on one or more ports."""

    def __init__(self, host="127.0.0.1", clock=None, accept_any_serial=False):
        self.host = host
        self.clock = clock or (lambda: datetime.now(UTC))
        self.accept_any_serial = accept_any_serial
        self.v5_devices = {}
        self.tcp_devices = {}
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
        for server in self.servers:
            server.close()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1)
        self.servers = []

    async def _misbehave(self, device, writer, reply):
        """Apply the device's injected behaviour; True when the normal reply must not be sent."""
        if device.latency:
            await asyncio.sleep(device.latency)
        if device.behaviour == Behaviour.TIMEOUT:
            await asyncio.sleep(3600)
        if device.behaviour == Behaviour.DROP:
            writer.write(reply[: len(reply) // 2])
            await writer.drain()
            writer.transport.abort()
            return True
        return False

    async def _serve_v5(self, reader, writer):
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            while True:
                header = await reader.readexactly(11)
                start, length, control, sequence, serial = struct.unpack("<BHHHI", header)
                rest = await reader.readexactly(length + 2)
                if start != V5_START or control != V5_REQUEST:
                    continue  # not a request: a real stick ignores it too
                self.requests += 1
                rtu = rest[15:length]
                device = self._v5_device(serial)
                if device is None:
                    # Another stick's serial: answer as a stick would, with a serial that does not match.
                    writer.write(v5_frame(V5_REPLY, sequence, 0, bytes(14) + rtu))
                    await writer.drain()
                    continue
                now = self.clock()
                device.refresh(now)
                if device.asleep:
                    payload = ASLEEP_PAYLOAD
                elif not validate_crc_ok(rtu):
                    continue
                else:
                    payload = add_crc(rtu[:1] + handle_pdu(device, rtu[1:-2], now))
                reply = v5_frame(V5_REPLY, sequence, serial, b"\x02\x01" + bytes(12) + payload)
                if device.behaviour == Behaviour.GARBAGE:
                    reply = reply[:-2] + bytes([(reply[-2] + 1) & 0xFF, V5_END])  # bad checksum
                if await self._misbehave(device, writer, reply):
                    return
                writer.write(reply)
                await writer.drain()
        writer.close()

    def _v5_device(self, serial):
        device = self.v5_devices.get(serial)
        if device is None and self.accept_any_serial:
            device = self.add_v5(SimulatedInverter(serial, f"AU{serial:010d}"))
        return device

    async def _serve_tcp(self, reader, writer):
        port = writer.get_extra_info("sockname")[1]
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            while True:
                tid, pid, length, unit = struct.unpack(">HHHB", await reader.readexactly(7))
                pdu = await reader.readexactly(length - 1)
                self.requests += 1
                device = self.tcp_devices.get((port, unit))
                now = self.clock()
                if device is None:
                    reply_pdu = bytes([pdu[0] | 0x80, GATEWAY_NO_RESPONSE])
                else:
                    device.refresh(now)
                    if device.asleep:
                        reply_pdu = bytes([pdu[0] | 0x80, GATEWAY_NO_RESPONSE])
                    else:
                        reply_pdu = handle_pdu(device, pdu, now)
                reply = struct.pack(">HHHB", tid, pid, len(reply_pdu) + 1, unit) + reply_pdu
                if device is not None:
                    if device.behaviour == Behaviour.GARBAGE:
                        reply = b"\xde\xad\xbe\xef" * 4  # not even an MBAP header
                    if await self._misbehave(device, writer, reply):
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
