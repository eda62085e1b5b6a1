"""Talking to a datalogger: one small interface over Modbus TCP (pymodbus) and Solarman V5 (pysolarmanv5).

`connect(endpoint)` opens one connection; `read_values(conn, plan)` reads the blocks of a plan one
request at a time (a stick answers one request at a time) and returns decoded values. Every failure
is a DeviceError carrying a Reason, so that callers can say in words what went wrong.
"""

import asyncio
import contextlib
import dataclasses
import ipaddress
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pysolarmanv5 import NoSocketAvailableError, PySolarmanV5, PySolarmanV5Async, V5FrameError
from umodbus.exceptions import ModbusError

from . import v5
from .hub import relay_preamble
from .messages import Message, define
from .registermap import BY_KEY, Kind, Table

# The stick's answer when the inverter behind it gave none: a 2-byte payload instead of a Modbus frame
# (pysolarmanv5 reports it as the Acknowledge exception). Asleep at night, but also a wrong unit id,
# an unsupported range or a broken RS485 link: the caller decides which from the time of day.
NO_INVERTER_PAYLOAD = b"\x05\x00"
# What an RS485→TCP gateway answers when the inverter behind it does not.
GATEWAY_NO_RESPONSE = 0x0B


class Reason(StrEnum):
    NOT_ALLOWED = "not_allowed"
    NOT_CALLED_IN = "not_called_in"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    DROPPED = "dropped"
    GARBAGE = "garbage"
    EXCEPTION = "exception"
    WRONG_SERIAL = "wrong_serial"


REASON_TEXT = {
    Reason.NOT_CALLED_IN: _(
        "The stick is not connected to the portal's hub: check its Server B setting (the portal's "
        "address and hub port, TCP, client) and the customer's internet connection."
    ),
    Reason.NOT_ALLOWED: _(
        "This address is in a private or reserved range that the portal is not allowed to reach. "
        "Ask the distributor to allow your VPN's range."
    ),
    Reason.REFUSED: _(
        "The logger refused the connection or cannot be reached: check its address "
        "and that it is powered and on the network."
    ),
    Reason.TIMEOUT: _("The logger gave no valid answer in time."),
    Reason.DROPPED: _("The logger closed the connection in the middle of a reply."),
    Reason.GARBAGE: _("The logger sent a reply that is not a valid frame."),
    Reason.EXCEPTION: _("The inverter refused the request (Modbus exception %(code)s)."),
    Reason.WRONG_SERIAL: _("A logger answered, but with another serial number: check the SN."),
}


class DeviceError(Exception):
    def __init__(self, reason, code=None):
        super().__init__(reason)
        self.reason = Reason(reason)
        self.code = code

    def __str__(self):
        return str(self.message)

    @property
    def message(self):
        """The reason as a stored message (rendered in each reader's language)."""
        return Message(f"reason.{self.reason}", {"code": self.code} if self.code is not None else {})


for _reason, _text in REASON_TEXT.items():
    define(f"reason.{_reason}", _text)


class NoInverterAnswer(Exception):
    """The logger answered, but the inverter behind it did not (`05 00`, or a gateway's 0x0B)."""


class SettingRefused(ValueError):
    """A write refused before anything is sent: not writable, wrong type or out of range."""


@dataclass(frozen=True)
class Endpoint:
    protocol: str  # "solarman_v5" | "modbus_tcp"
    host: str
    port: int
    serial: int
    unit_id: int = 1
    timeout: float = 5.0
    retries: int = 1
    gap: float = 0.1  # pause between two requests to one stick
    # Which resolved addresses may be connected to (None: any). Checked on every connection, so that
    # a host name cannot lead the portal into its own network.
    allowed: Callable[[str], bool] | None = None
    via_hub: bool = False  # host and port are the logger hub's relay; the stick called in

    @classmethod
    def for_logger(cls, logger, *, timeout, retries, gap, allowed=None):
        return cls(
            logger.protocol,
            logger.host,
            logger.port,
            int(logger.serial_number),
            logger.unit_id,
            timeout,
            retries,
            gap,
            allowed,
        )


async def resolve(endpoint):
    """The endpoint with its host resolved to an address it is allowed to reach (DeviceError if none)."""
    if endpoint.allowed is None:
        return endpoint
    try:  # an address already (most loggers): no resolver thread to ask
        ipaddress.ip_address(endpoint.host)
    except ValueError:
        pass
    else:
        if not endpoint.allowed(endpoint.host):
            raise DeviceError(Reason.NOT_ALLOWED)
        return endpoint
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            endpoint.host, endpoint.port, type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError):
        raise DeviceError(Reason.REFUSED) from None
    addresses = [info[4][0] for info in infos]
    if not addresses or not all(endpoint.allowed(address) for address in addresses):
        raise DeviceError(Reason.NOT_ALLOWED)
    return dataclasses.replace(endpoint, host=addresses[0])


class _V5Client(PySolarmanV5Async):
    """pysolarmanv5's async client, told two habits of real sticks it does not know by itself."""

    def __init__(self, address, serial, **kwargs):
        # The library's async __init__ makes a multiprocessing.Event (an OS semaphore, 0.3 ms each:
        # a third of a poll's CPU at fleet scale). Its state is only ever touched from the event
        # loop's thread, so a threading.Event does the same job; the rest is the library's own set-up.
        PySolarmanV5.__init__(self, address, serial, **kwargs)
        self._needs_reconnect = False
        self.reader = self.writer = self.reader_task = None
        self.data_queue = asyncio.Queue(maxsize=1)
        self.data_wanted_ev = threading.Event()

    def _v5_frame_decoder(self, v5_frame):
        if len(v5_frame) < 13 + int.from_bytes(v5_frame[1:3], "little"):
            raise DeviceError(Reason.DROPPED)  # the stick hung up in the middle of its reply
        if bytes(v5_frame[25:-2]) == NO_INVERTER_PAYLOAD:
            raise NoInverterAnswer
        return super()._v5_frame_decoder(v5_frame)

    async def _conn_keeper(self):
        """The library reads 1,024-byte chunks and takes each for one frame, so a heartbeat arriving
        with a reply hides the reply, and a reply split over two segments is garbage. Read whole
        frames instead, skip the stick's own, and hand the rest to the library's checks."""
        try:
            while True:
                raw = await v5.read_frame(self.reader)
                if v5.is_stick_own(raw) or not self._received_frame_is_valid(raw):
                    continue
                self._send_data(raw)
        except (asyncio.IncompleteReadError, ConnectionError, v5.FrameError):
            pass
        finally:
            # The library leaves a waiting request to time out when the stick hangs up; wake it now.
            self._send_data(b"")


class _HubV5Client(_V5Client):
    """The same client, through the logger hub's relay: it names the stick first (devices.hub)."""

    async def connect(self):
        try:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(self.address, self.port), self.socket_timeout
            )
            self.writer.write(relay_preamble(self.serial))
            await self.writer.drain()
            answer = await asyncio.wait_for(self.reader.readline(), self.socket_timeout)
        except (OSError, TimeoutError):
            raise DeviceError(Reason.NOT_CALLED_IN) from None
        if answer != b"OK\n":
            raise DeviceError(Reason.NOT_CALLED_IN)
        self.reader_task = asyncio.get_running_loop().create_task(self._conn_keeper())


class SolarmanV5Connection:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        client_class = _HubV5Client if endpoint.via_hub else _V5Client
        self.client = client_class(
            endpoint.host,
            endpoint.serial,
            port=endpoint.port,
            mb_slave_id=endpoint.unit_id,
            socket_timeout=endpoint.timeout,
            logger=_QUIET,
        )

    async def open(self):
        try:
            await self.client.connect()
        except NoSocketAvailableError as e:
            cause = e.__cause__
            raise DeviceError(Reason.TIMEOUT if isinstance(cause, TimeoutError) else Reason.REFUSED) from e

    async def _call(self, method, *args):
        for attempt in range(self.endpoint.retries + 1):
            try:
                return await getattr(self.client, method)(*args)
            except TimeoutError:
                if attempt == self.endpoint.retries:
                    raise DeviceError(Reason.TIMEOUT) from None
            except NoSocketAvailableError:
                # Through the hub, a closed relay means the stick left (or never answered).
                raise DeviceError(Reason.NOT_CALLED_IN if self.endpoint.via_hub else Reason.DROPPED) from None
            except V5FrameError as e:
                if "serial number" in str(e):
                    raise DeviceError(Reason.WRONG_SERIAL) from None
                raise DeviceError(Reason.GARBAGE) from None
            except ModbusError as e:
                raise DeviceError(Reason.EXCEPTION, code=e.error_code) from None
            except (ValueError, IndexError, OSError):  # umodbus' parse of a mangled frame
                raise DeviceError(Reason.GARBAGE) from None

    async def read(self, table, address, count):
        method = "read_input_registers" if table == Table.INPUT else "read_holding_registers"
        return await self._call(method, address, count)

    async def write(self, address, value):
        await self._call("write_holding_register", address, value)

    async def close(self):
        with contextlib.suppress(Exception):
            await self.client.disconnect()


class ModbusTcpConnection:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.client = AsyncModbusTcpClient(
            endpoint.host,
            port=endpoint.port,
            timeout=endpoint.timeout,
            retries=endpoint.retries,
            reconnect_delay=0,
        )

    async def open(self):
        if not await self.client.connect():
            raise DeviceError(Reason.REFUSED)

    async def _call(self, method, address, **kwargs):
        try:
            reply = await getattr(self.client, method)(address, device_id=self.endpoint.unit_id, **kwargs)
        except ModbusIOException:
            raise DeviceError(Reason.TIMEOUT if self.client.connected else Reason.DROPPED) from None
        except ConnectionException:
            raise DeviceError(Reason.DROPPED) from None
        except ModbusException:
            raise DeviceError(Reason.GARBAGE) from None
        if reply.isError() and reply.exception_code == GATEWAY_NO_RESPONSE:
            raise NoInverterAnswer  # the gateway is up, the inverter behind it does not answer
        if reply.isError():
            raise DeviceError(Reason.EXCEPTION, code=getattr(reply, "exception_code", None))
        return reply

    async def read(self, table, address, count):
        method = "read_input_registers" if table == Table.INPUT else "read_holding_registers"
        reply = await self._call(method, address, count=count)
        if len(reply.registers) != count:
            raise DeviceError(Reason.GARBAGE)
        return reply.registers

    async def write(self, address, value):
        await self._call("write_register", address, value=value)

    async def close(self):
        self.client.close()


# A connection to one logger, whichever its protocol.
Connection = SolarmanV5Connection | ModbusTcpConnection


@contextlib.asynccontextmanager
async def connect(endpoint):
    """One connection to one logger, always closed after use (sticks drop idle connections anyway)."""
    endpoint = await resolve(endpoint)
    cls = SolarmanV5Connection if endpoint.protocol == "solarman_v5" else ModbusTcpConnection
    conn = cls(endpoint)
    try:
        await conn.open()
        yield conn
    finally:
        await conn.close()


async def read_values(conn, blocks):
    """Read `blocks` one after the other and return their decoded values."""
    values = {}
    for i, block in enumerate(blocks):
        if i:
            await asyncio.sleep(conn.endpoint.gap)
        words = await conn.read(block.table, block.start, block.count)
        if len(words) != block.count:
            raise DeviceError(Reason.GARBAGE)
        values.update(block.decode(words))
    return values


def setting_word(key, value):
    """The raw word to write for a setting, or SettingRefused with the reason in words.

    Checked against the map before anything is sent: only registers the public definition writes,
    within their range or choices.
    """
    register = BY_KEY.get(key)
    if register is None or not register.writable:
        raise SettingRefused(_("This value cannot be changed remotely."))
    setting = register.setting
    try:
        # Strict JSON types: "HH:MM" text for a time, a whole number (not true, "2" nor 2.0) otherwise.
        if register.kind == Kind.HHMM:
            if not isinstance(value, str):
                raise TypeError
            word = register.encode(value)[0]
            if register.decode([word]) != value:
                raise ValueError
            return word
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError
        number = value
    except (TypeError, ValueError, AttributeError):
        raise SettingRefused(
            _("The value “%(value)s” is not valid for this setting.") % {"value": value}
        ) from None
    if not register.allows(number):
        if register.choices:
            raise SettingRefused(
                _("The value %(value)s is not one of the allowed choices.") % {"value": number}
            )
        raise SettingRefused(
            _("The value must be between %(min)s and %(max)s.")
            % {"min": setting.minimum, "max": setting.maximum}
        )
    return register.encode(number)[0]


async def write_setting(conn, key, value):
    """Write one setting with function 06 at its address; refused before sending when not allowed."""
    await conn.write(BY_KEY[key].address, setting_word(key, value))


class _QuietLogger:
    """pysolarmanv5 logs every frame problem; our callers report them once, in words."""

    def debug(self, *args, **kwargs):
        pass

    exception = info = warning = error = debug

    def setLevel(self, level):  # noqa: N802 - the library's call
        pass


_QUIET = _QuietLogger()
