"""The portal's transports against the simulator, and the simulator against independent clients."""

import asyncio

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pysolarmanv5 import PySolarmanV5Async

from devices.registermap import BY_KEY, INFO_PLAN, LIVE_PLAN, SETTINGS_PLAN
from devices.simulator import Behaviour
from devices.transport import (
    DeviceError,
    Endpoint,
    InverterAsleep,
    Reason,
    connect,
    read_values,
    write_setting,
)

# Negative (s16), 32-bit, scaled and bit-field values the decoding must get exactly.
FORCED = {
    "grid_power": -2750,
    "battery_power": -1834,
    "battery_current": -35.7,
    "grid_current": -11.883,
    "pv_energy_total": 123456.7,
    "grid_export_total": 98765.4,
    "battery_charge_total": 81234,
    "battery_temperature": -4.5,
    "warning_bits": (1 << 28) | (1 << 2),
    "fault_bits": 1 << 31,
    "grid_frequency": 49.98,
    "battery_soc": 87.3,
}


def endpoint(simulator, device, protocol, **kw):
    if protocol == "solarman_v5":
        return Endpoint(protocol, "127.0.0.1", simulator.v5_port, device.logger_serial, **kw)
    return Endpoint(protocol, "127.0.0.1", simulator.tcp_ports[0], 0, unit_id=device.unit_id, **kw)


def read(ep, plan=LIVE_PLAN + INFO_PLAN):
    async def go():
        async with connect(ep) as conn:
            return await read_values(conn, plan)

    return asyncio.run(go())


@pytest.fixture(params=["solarman_v5", "modbus_tcp"])
def device(request, simulator):
    fixture = "v5_device" if request.param == "solarman_v5" else "tcp_device"
    dev = request.getfixturevalue(fixture)
    dev.protocol = request.param
    return dev


def test_decoded_values_equal_the_simulators_own(simulator, device):
    simulator.thread.call(device.overrides.update, FORCED)
    values = read(endpoint(simulator, device, device.protocol))
    own = simulator.thread.call(device.values)
    for key in values:
        assert values[key] == own[key], key
    for key, expected in FORCED.items():
        assert values[key] == expected, key


def test_an_independent_pymodbus_client_reads_what_the_portal_reads(simulator, tcp_device):
    simulator.thread.call(tcp_device.overrides.update, FORCED)

    async def go():
        client = AsyncModbusTcpClient("127.0.0.1", port=simulator.tcp_ports[0])
        await client.connect()
        reg = BY_KEY["grid_power"]
        rr = await client.read_input_registers(reg.address, count=1, device_id=tcp_device.unit_id)
        rr32 = await client.read_input_registers(3041, count=2, device_id=tcp_device.unit_id)
        client.close()
        return rr.registers, rr32.registers

    words, words32 = asyncio.run(go())
    assert BY_KEY["grid_power"].decode(words) == -2750
    assert BY_KEY["pv_energy_total"].decode(words32) == 123456.7


def test_an_independent_pysolarmanv5_client_reads_what_the_portal_reads(simulator, v5_device):
    simulator.thread.call(v5_device.overrides.update, FORCED)

    async def go():
        client = PySolarmanV5Async(
            "127.0.0.1", v5_device.logger_serial, port=simulator.v5_port, socket_timeout=3
        )
        await client.connect()
        words = await client.read_input_registers(3063, 5)
        await client.disconnect()
        return words

    words = asyncio.run(go())
    assert BY_KEY["battery_power"].decode(words[2:3]) == -1834
    assert BY_KEY["battery_soc"].decode(words[3:4]) == 87.3


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


def test_a_sleeping_inverter_is_asleep_not_an_error(simulator, device):
    device.behaviour = Behaviour.ASLEEP
    with pytest.raises(InverterAsleep):
        read(endpoint(simulator, device, device.protocol))


def test_a_closed_port_is_refused(simulator):
    with pytest.raises(DeviceError) as error:
        read(Endpoint("solarman_v5", "127.0.0.1", 1, 2355553510, timeout=0.5))
    assert error.value.reason == Reason.REFUSED


def test_settings_are_refused_while_remote_control_is_disabled(simulator, device):
    ep = endpoint(simulator, device, device.protocol)

    async def write(value):
        async with connect(ep) as conn:
            await write_setting(conn, "setting_working_mode", value)

    with pytest.raises(DeviceError) as error:
        asyncio.run(write(2))
    assert error.value.reason == Reason.EXCEPTION and error.value.code == 4
    device.remote_control = 2
    asyncio.run(write(2))
    assert read(ep, SETTINGS_PLAN)["setting_working_mode"] == 2
    assert read(ep, LIVE_PLAN)["working_mode"] == 2
