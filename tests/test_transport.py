"""The transports against golden frames and the simulator; the simulator against independent clients.

Golden values are raw words and frames written by hand from the public KSTAR definition (V2.9.1, as
ha-solarman's kstar_hybrid.yaml gives it) and the V5 layout, never produced by the project's encoder,
so that a wrong address, scale, sign or layout fails here.
"""

import asyncio
import socket
import threading

import pytest
from django.utils import translation
from pymodbus.client import AsyncModbusTcpClient
from pysolarmanv5 import PySolarmanV5

from devices.registermap import (
    BY_KEY,
    DAY_COUNTERS,
    INFO_PLAN,
    LIVE_PLAN,
    RATED_POWER_W,
    Block,
    Table,
    sanitise,
)
from devices.simulator import Behaviour, FleetSimulator, SimulatorThread
from devices.transport import (
    DeviceError,
    Endpoint,
    NoInverterAnswer,
    Reason,
    SettingRefused,
    connect,
    read_values,
    write_setting,
)

from .conftest import awake_inverter


def endpoint(simulator, device, protocol, **kw):
    if protocol == "solarman_v5":
        return Endpoint(protocol, "127.0.0.1", simulator.v5_port, device.logger_serial, **kw)
    return Endpoint(protocol, "127.0.0.1", simulator.tcp_ports[0], 0, unit_id=device.unit_id, **kw)


def read(ep, plan=LIVE_PLAN + INFO_PLAN):
    async def go():
        async with connect(ep) as conn:
            return await read_values(conn, plan)

    return asyncio.run(go())


def write(ep, key, value):
    async def go():
        async with connect(ep) as conn:
            await write_setting(conn, key, value)

    asyncio.run(go())


@pytest.fixture(params=["solarman_v5", "modbus_tcp"])
def device(request, simulator):
    fixture = "v5_device" if request.param == "solarman_v5" else "tcp_device"
    dev = request.getfixturevalue(fixture)
    dev.protocol = request.param
    return dev


# -- golden words: the public definition, decoded ----------------------------------------------


@pytest.mark.parametrize(
    "key, words, expected",
    [
        ("grid_power_l1", [0x0ABE], -2750),  # raw +2750 is export; the portal's + is import
        ("grid_power_l1", [0xF542], 2750),  # raw −2750: importing
        ("battery_power", [0xF8D6], -1834),  # raw negative: charging (the losses formula's input)
        ("pv_energy_total", [0x0001, 0xE240], 12345.6),  # high word first, × 0.1
        ("battery_soc", [0x0369], 87.3),
        ("grid_frequency", [0x1386], 49.98),
        ("battery_temperature", [0xFFD3], -4.5),
        ("grid_charge_start", [0x0200], "02:00"),  # hex-coded HH:MM
        ("grid_charge_end", [0x0530], "05:30"),
        ("firmware_arm", [0x0C03], "1.2.3"),  # high byte X.Y × 0.1, low byte Z
        ("battery_discharge_total", [0x0000, 0x1F40], 8000),  # kWh, no scale
        # The day counters the energy accounting sums: unsigned, × 0.1 kWh.
        ("pv_energy_today", [0x00D7], 21.5),
        ("grid_import_today", [0x0011], 1.7),
        ("grid_export_today", [0x0084], 13.2),
        ("load_energy_today", [0x0062], 9.8),
        ("battery_discharge_today", [0x0035], 5.3),
        ("battery_charge_today", [0x003C], 6.0),
    ],
)
def test_raw_words_from_the_public_definition_decode_to_the_right_values(key, words, expected):
    assert BY_KEY[key].decode(words) == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        # 3097 voltage 230.0 V, 3099 current (mA, signed), 3100 power (raw + = export): written by hand.
        ({3097: 0x08FC, 3099: 0x6F78, 3100: 0xDEAB}, 37.0),  # importing 8,533 W: 37 A wrapped past 32.767
        ({3097: 0x08FC, 3099: 0x35AC, 3100: 0x0C58}, -13.74),  # exporting 3,160 W: kept as read
        ({3097: 0x08FC, 3099: 0x1388, 3100: 0xF542}, None),  # 5 A exported against 2,750 W imported
    ],
)
def test_grid_current_is_cross_checked_against_its_phases_power(words, expected):
    """The public definition's 3099 is signed mA (±32.767 A). A value its phase's power and voltage
    contradict is not stored; one 16-bit wrap is undone when that alone agrees."""
    keys = {3097: "grid_voltage", 3099: "grid_current", 3100: "grid_power_l1"}
    values = {keys[address]: BY_KEY[keys[address]].decode([word]) for address, word in words.items()}
    sanitise(values)
    assert values["grid_current"] == expected


def test_the_day_counters_are_at_the_public_addresses():
    """Written from kstar_hybrid.yaml (V2.9.1): Today Production 3036, Today Energy Import 3109 and
    Export 3116, Today Load Consumption 3147, Today Battery Discharge 3294 and Charge 3301, all read
    with function 04, one register, × 0.1 kWh."""
    public = {"production": 3036, "grid_import": 3109, "grid_export": 3116, "consumption": 3147,
              "battery_discharge": 3294, "battery_charge": 3301}  # fmt: skip
    for flow, key in DAY_COUNTERS.items():
        register = BY_KEY[key]
        assert (register.address, register.table, register.count, register.scale) == (
            public[flow],
            Table.INPUT,
            1,
            0.1,
        ), flow


def test_the_identity_block_decodes_serial_model_and_firmware_from_the_public_layout():
    serial = b"KS6K2401000123\x00\x00\x00\x00\x00\x00\x00\x00"  # 11 input registers from 3228
    words = [int.from_bytes(serial[i : i + 2], "big") for i in range(0, 22, 2)]
    block = Block(Table.INPUT, 3228, 11, (BY_KEY["serial_number"],))
    assert block.decode(words) == {"serial_number": "KS6K2401000123"}
    name = b"BluE-S 6000D\x00\x00\x00\x00"
    assert BY_KEY["model_name"].decode([int.from_bytes(name[i : i + 2], "big") for i in range(0, 16, 2)]) == (
        "BluE-S 6000D"
    )
    assert RATED_POWER_W[12] == 6000 and RATED_POWER_W[9] == 3680


@pytest.mark.parametrize(
    "key, raw, fr, en",
    [
        ("system_status", 7, "Défaut", "Fault"),
        ("system_status", 2, "Sur réseau (hybride)", "On grid (hybrid)"),
        ("grid_standard", 14, "EN 50549", "EN 50549"),
        ("grid_standard", 10, "France", "France"),
        ("grid_standard", 9, "Grèce", "Greece"),
        ("working_mode", 2, "Priorité batterie", "Battery priority"),
        ("model_code", 11, "BluE-S 5000D", "BluE-S 5000D"),
    ],
)
def test_enums_are_words_in_french_and_english(key, raw, fr, en):
    reg = BY_KEY[key]
    with translation.override("fr"):
        assert reg.display(reg.decode([raw])) == fr
    with translation.override("en"):
        assert reg.display(reg.decode([raw])) == en


def test_settings_live_at_the_public_addresses_and_nothing_is_invented():
    writable = {r.key: r.address for r in BY_KEY.values() if r.writable}
    assert writable == {
        "working_mode": 3044,
        "discharge_limit": 3078,
        "charge_limit": 3079,
        "grid_charge_max_soc": 3260,
        "grid_charge_enable": 3314,
        "grid_charge_start": 3317,
        "grid_charge_end": 3318,
        "restart": 3243,
    }
    assert not any(3400 <= r.address <= 3404 for r in BY_KEY.values())
    assert BY_KEY["serial_number"].table == Table.INPUT and BY_KEY["serial_number"].address == 3228


# -- a golden V5 frame, served by a bare socket -------------------------------------------------


def golden_v5_server(reply_for):
    """A one-connection TCP server that answers each request with `reply_for(request)`."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn:
            while request := conn.recv(1024):
                conn.sendall(reply_for(request))
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def v5_reply(request, payload_hex, prefix=b""):
    """The stick's reply to `request`, laid out by hand from the V5 documentation:
    A5, length (LE), control 0x1510, sequence echoed, serial, frame type 02, status 01, 12 bytes of
    times, the Modbus RTU reply, checksum (sum of bytes 1..n-3 mod 256), 15."""
    payload = bytes.fromhex("02 01" + " 00" * 12) + bytes.fromhex(payload_hex)
    frame = bytearray(b"\xa5" + len(payload).to_bytes(2, "little") + b"\x10\x15")
    frame += request[5:7] + request[7:11] + payload + b"\x00\x15"
    frame[-2] = sum(frame[1:-2]) & 0xFF
    return prefix + bytes(frame)


def test_a_golden_v5_reply_with_grid_power_exporting_decodes_as_export():
    # Read input 3100, 1 register → 0x0ABE (2750 W raw: exporting). RTU: 01 04 02 0A BE + CRC.
    port = golden_v5_server(lambda request: v5_reply(request, "01 04 02 0A BE 3F E0"))
    block = Block(Table.INPUT, 3100, 1, (BY_KEY["grid_power_l1"],))
    assert read(Endpoint("solarman_v5", "127.0.0.1", port, 2355553510), [block]) == {"grid_power_l1": -2750}


def test_a_heartbeat_arriving_with_the_reply_does_not_hide_it():
    # The stick's heartbeat (14 bytes, control 0x4710) in the same TCP segment as the reply.
    def reply(request):
        heartbeat = bytearray(bytes.fromhex("a5 01 00 10 47 00 01") + request[7:11] + b"\x00\x00\x15")
        heartbeat[-2] = sum(heartbeat[1:-2]) & 0xFF
        return v5_reply(request, "01 04 02 0A BE 3F E0", prefix=bytes(heartbeat))

    port = golden_v5_server(reply)
    block = Block(Table.INPUT, 3100, 1, (BY_KEY["grid_power_l1"],))
    assert read(Endpoint("solarman_v5", "127.0.0.1", port, 2355553510), [block]) == {"grid_power_l1": -2750}


def test_the_sticks_05_00_is_no_inverter_answer():
    port = golden_v5_server(lambda request: v5_reply(request, "05 00"))
    with pytest.raises(NoInverterAnswer):
        read(Endpoint("solarman_v5", "127.0.0.1", port, 2355553510), LIVE_PLAN)


# -- the simulator, read by independent clients -------------------------------------------------


def test_pymodbus_reads_the_public_layout_from_the_simulator(simulator, tcp_device):
    simulator.thread.call(
        tcp_device.overrides.update, {"grid_power_l1": -2750, "serial_number": "KS6K24010001"}
    )

    async def go():
        client = AsyncModbusTcpClient("127.0.0.1", port=simulator.tcp_ports[0])
        await client.connect()
        unit = tcp_device.unit_id
        power = await client.read_input_registers(3100, count=1, device_id=unit)
        serial = await client.read_input_registers(3228, count=11, device_id=unit)
        name = await client.read_holding_registers(3200, count=8, device_id=unit)
        window = await client.read_input_registers(3317, count=2, device_id=unit)
        undefined = await client.read_input_registers(2990, count=5, device_id=unit)
        client.close()
        return power, serial, name, window, undefined

    power, serial, name, window, undefined = asyncio.run(go())
    assert power.registers == [2750]  # exporting reads positive on the wire
    assert b"".join(w.to_bytes(2, "big") for w in serial.registers).rstrip(b"\x00") == b"KS6K24010001"
    assert b"".join(w.to_bytes(2, "big") for w in name.registers).rstrip(b"\x00") == b"BluE-S 6000D"
    assert window.registers == [0x0200, 0x0500]
    assert undefined.isError() and undefined.exception_code == 2


def test_pysolarmanv5s_own_client_reads_the_simulators_v5_stick(simulator, v5_device):
    # A real stick answers in tens of milliseconds at best. pysolarmanv5's blocking client starts
    # waiting for the answer only after its send returns, so an instant answer from a local
    # simulator could arrive before it waits and be dropped (its reader discards unexpected frames).
    v5_device.latency = 0.05
    simulator.thread.call(v5_device.overrides.update, {"battery_power": -1834, "battery_soc": 87.3})
    client = PySolarmanV5("127.0.0.1", v5_device.logger_serial, port=simulator.v5_port, socket_timeout=3)
    try:
        words = client.read_input_registers(3063, 5)
    finally:
        client.disconnect()
    assert words[2] == 0x10000 - 1834 and words[3] == 873


def test_decoded_values_equal_the_simulators_own(simulator, device):
    forced = {"grid_power_l1": -2750, "pv_energy_total": 123456.7, "battery_current": -35.7}
    simulator.thread.call(device.overrides.update, forced)
    values = read(endpoint(simulator, device, device.protocol))
    own = simulator.thread.call(device.values)
    for key, value in values.items():
        assert value == own[key], key


def test_heartbeats_between_replies_do_not_disturb_a_poll(simulator):
    sim = FleetSimulator(heartbeat_seconds=0.005)
    device = sim.add_v5(awake_inverter(2366660001, "KS6K24010009"))
    with SimulatorThread(sim):
        values = read(Endpoint("solarman_v5", "127.0.0.1", sim.v5_port, device.logger_serial, gap=0.02))
    assert values["serial_number"] == "KS6K24010009"


@pytest.mark.parametrize(
    "behaviour, reason",
    [
        (Behaviour.DROP, Reason.DROPPED),
        (Behaviour.EXCEPTION, Reason.EXCEPTION),
        (Behaviour.TIMEOUT, Reason.TIMEOUT),
    ],
)
def test_failures_come_back_as_reasons(simulator, device, behaviour, reason):
    device.behaviour = behaviour
    with pytest.raises(DeviceError) as error:
        read(endpoint(simulator, device, device.protocol, timeout=0.3, retries=0))
    assert error.value.reason == reason


def test_v5_garbage_is_reported_as_garbage(simulator, v5_device):
    v5_device.behaviour = Behaviour.GARBAGE
    with pytest.raises(DeviceError) as error:
        read(endpoint(simulator, v5_device, "solarman_v5", timeout=0.3, retries=0))
    assert error.value.reason == Reason.GARBAGE


def test_modbus_tcp_garbage_is_no_valid_answer(simulator, tcp_device):
    tcp_device.behaviour = Behaviour.GARBAGE
    with pytest.raises(DeviceError) as error:
        read(endpoint(simulator, tcp_device, "modbus_tcp", timeout=0.3, retries=0))
    assert error.value.reason == Reason.TIMEOUT


@pytest.mark.parametrize("behaviour", [Behaviour.ASLEEP, Behaviour.UNPLUGGED])
def test_an_inverter_that_does_not_answer_its_stick_is_no_inverter_answer(simulator, device, behaviour):
    device.behaviour = behaviour
    with pytest.raises(NoInverterAnswer):
        read(endpoint(simulator, device, device.protocol))


def test_a_closed_port_is_refused(simulator):
    with pytest.raises(DeviceError) as error:
        read(Endpoint("solarman_v5", "127.0.0.1", 1, 2355553510, timeout=0.5))
    assert error.value.reason == Reason.REFUSED


# -- writes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value",
    [
        ("grid_standard", 10),  # set on the inverter screen: no public write
        ("battery_soc", 50),  # a measurement
        ("charge_limit", 0),  # below the public range 1–100
        ("grid_charge_max_soc", 10),  # below 20
        ("working_mode", 7),  # not a choice
        ("charge_limit", "abc"),  # not a number
        ("grid_charge_start", "25:00"),  # not a time
    ],
)
def test_a_write_that_the_map_does_not_allow_is_refused_before_anything_is_sent(
    simulator, device, key, value
):
    device.remote_control = True
    with pytest.raises(SettingRefused):
        write(endpoint(simulator, device, device.protocol), key, value)
    assert device.writes == []


def test_settings_are_refused_while_remote_control_is_off_on_the_screen(simulator, device):
    ep = endpoint(simulator, device, device.protocol)
    with pytest.raises(DeviceError) as error:
        write(ep, "working_mode", 2)
    assert error.value.reason == Reason.EXCEPTION
    device.remote_control = True
    write(ep, "working_mode", 2)
    write(ep, "grid_charge_start", "01:30")
    values = read(ep, LIVE_PLAN)
    assert values["working_mode"] == 2 and values["grid_charge_start"] == "01:30"
    assert (3317, 0x0130) in device.writes  # hex-coded on the wire


def test_the_simulator_refuses_writes_outside_the_public_writable_registers(simulator, tcp_device):
    tcp_device.remote_control = True

    async def go():
        client = AsyncModbusTcpClient("127.0.0.1", port=simulator.tcp_ports[0])
        await client.connect()
        unit = tcp_device.unit_id
        invented = await client.write_register(3400, 1, device_id=unit)
        measurement = await client.write_register(3066, 500, device_id=unit)
        out_of_range = await client.write_register(3079, 150, device_id=unit)
        multiple = await client.write_registers(3078, [50, 50], device_id=unit)
        client.close()
        return invented, measurement, out_of_range, multiple

    invented, measurement, out_of_range, multiple = asyncio.run(go())
    assert invented.exception_code == 2 and measurement.exception_code == 2
    assert out_of_range.exception_code == 3
    assert multiple.exception_code == 1  # the public definition writes with 06 only
