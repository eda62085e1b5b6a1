"""The logger hub: WiFi sticks call the portal in ("Server B"), and the pollers talk to them through it.

A stick behind a customer's internet box is a TCP client: nothing outside can open its port 8899.
Configured with Server B = the portal's address and hub port (TCP, client mode), it opens an outbound
connection, sends frames of its own (hello 0x4110, data 0x4210, heartbeat 0x4710…) and answers V5
request frames (0x4510) on that same connection as on port 8899. Public sources:
githubDante/go-solarman-proxy (routes pysolarmanv5 clients to called-in sticks by serial) and
serek4/node-red-sofar-inverter (messages/*.md: every frame's layout, and the server's answer a stick
expects to each frame of its own, decode_srv-response.md; a stick whose frame is not answered sends
it again).

Two listeners:
1. the sticks' port (public, 10000 by default). A connection is named by the serial in the header of
   its first frame. Every connection's own frames are answered alike, whatever its serial: from
   outside, a registered and an unregistered serial look the same (the serial printed on a stick is
   no secret, and V5 has no authentication). A connection is *bound* (polled, written to) when an
   active "calls in" datalogger has its serial:
   - no connection holds the serial: bound at once;
   - one does (field life: an internet box rebooted leaves the old TCP connection half-open, no FIN
     ever comes, while the stick calls in again on a new one): the old one is asked for the
     inverter's serial. Silent, it is dropped and the newcomer bound. Answering, the newcomer is
     asked too, and takes over only if it gives the same inverter serial; otherwise it is never
     polled nor written (an impostor, recorded once per serial and hour for the distributor admin).
   An unregistered serial is asked again every RECHECK_SECONDS of its own frames, so that a stick
   already calling in is bound within a heartbeat of being added in the portal. With several hubs
   (devices.hubregistry), a serial another live hub holds is checked the same way, its old connection
   asked through that hub's relay.
2. the relay (the portal's pollers and remote-control tasks only): a caller says
   "AURA-HUB <serial> <token>\\n" with the token derived from the portal's SECRET_KEY, and gets
   "OK\\n" (then speaks plain V5 as to the stick itself) or "NOT-CALLED-IN\\n". Requests to one stick
   are relayed one at a time (a stick serves one request at a time), so two pollers never interleave
   on its wire; a relay connection idle for RELAY_IDLE_SECONDS is closed.
Bounded: a first frame within FIRST_FRAME_SECONDS, sticks silent for three heartbeats closed, at most
GARBAGE_BYTES without a valid frame, a maximum number of connections and of connections per address.
"""

import asyncio
import collections
import contextlib
import functools
import ipaddress
import logging
import socket
import struct
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac
from umodbus.client.serial import rtu

from . import v5
from .registermap import BY_KEY

log = logging.getLogger(__name__)

FIRST_FRAME_SECONDS = 30
HEARTBEAT_SECONDS = 120  # a stick's heartbeat period (the public captures)
IDLE_SECONDS = 3 * HEARTBEAT_SECONDS  # three heartbeats missed: the connection is gone
REPLY_SECONDS = 10
PROBE_SECONDS = 5  # for a connection to give its inverter's serial when another claims its stick
RECHECK_SECONDS = 30  # an unregistered serial is looked up again at most this often
GARBAGE_BYTES = 4096  # a stick's frames are small: more junk than this in a row is not a stick
READ_LIMIT = 8192  # the stream buffer of a stick connection (StreamReader's limit)
RELAY_IDLE_SECONDS = 60
MAX_STICKS = 20_000
MAX_PER_ADDRESS = 256  # a carrier-grade NAT puts many customers behind one address
PROXY_LINE_BYTES = (
    107  # the PROXY protocol v1 line's longest (haproxy.org/download/2.9/doc/proxy-protocol.txt)
)
PREAMBLE = b"AURA-HUB "
OK, NOT_CALLED_IN = b"OK\n", b"NOT-CALLED-IN\n"
INVERTER_SERIAL = BY_KEY["serial_number"]


def relay_token():
    """What a relay caller must say: derived from SECRET_KEY, which the portal and the hub must share
    (docs/architecture/invariants.md)."""
    return salted_hmac("devices.hub.relay", "relay", secret=settings.SECRET_KEY).hexdigest()


def relay_preamble(serial):
    return b"%s%d %s\n" % (PREAMBLE, serial, relay_token().encode())


def server_answer(raw, now=None):
    """The server's answer to a stick's own frame (decode_srv-response.md): 23 bytes, control 0x10
    and the request's type − 0x30, the sequence, the serial, the request's frame type, 01, a Unix
    timestamp (u32 LE), 78 00 00 00."""
    kind = raw[4] - 0x30
    sequence = bytes([(raw[5] + 1) & 0xFF, raw[6]])
    payload = bytes([raw[11], 0x01]) + struct.pack("<I", int(now or time.time())) + b"\x78\x00\x00\x00"
    out = bytearray(struct.pack("<BH", v5.START, len(payload)) + bytes([0x10, kind]) + sequence + raw[7:11])
    out += payload + b"\x00\x15"
    out[-2] = v5.checksum(out)
    return bytes(out)


def identity_request(serial, unit=1):
    """A V5 request (pysolarmanv5's layout: frame type 02, sensor type, three times, then Modbus RTU)
    for the inverter's serial number, input registers 3228–3238 (function 04). Unit 1 is the
    installer guide's default: a stick on another unit id answers `05 00` and counts as alive."""
    modbus = rtu.read_input_registers(unit, INVERTER_SERIAL.address, INVERTER_SERIAL.count)
    return v5.frame(v5.REQUEST, 0x0101, serial, b"\x02" + bytes(14) + modbus)


def inverter_serial_of(reply):
    """The inverter serial in a reply to `identity_request`, or None (no inverter, an exception)."""
    modbus = reply[25:-2]
    if len(modbus) < 5 or modbus[1] != 0x04 or modbus[2] != 2 * INVERTER_SERIAL.count:
        return None
    words = [int.from_bytes(modbus[3 + i : 5 + i], "big") for i in range(0, modbus[2], 2)]
    return INVERTER_SERIAL.decode(words) or None


async def ask_through_relay(address, serial, request, *, timeout):
    """One request to the stick another hub holds, through that hub's relay; its reply or None."""
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(*address)
            writer.write(relay_preamble(serial))
            await writer.drain()
            if await reader.readline() != OK:
                return None
            writer.write(request)
            await writer.drain()
            return await v5.read_frame(reader)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, v5.FrameError):
        return None
    finally:
        if writer is not None:
            writer.transport.abort()


def _keepalive(sock):
    """TCP keepalive on a stick's socket: a connection whose far end vanished (an internet box that
    rebooted sends no FIN) is found by the kernel in about three minutes even if nothing is relayed.
    The stick's own heartbeat (IDLE_SECONDS) and a newcomer's takeover find it sooner."""
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 120), ("TCP_KEEPINTVL", 20), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


@dataclass(eq=False)
class Stick:
    serial: int
    writer: asyncio.StreamWriter
    connected_at: float = field(default_factory=time.time)
    last_frame_at: float = field(default_factory=time.time)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: asyncio.Future | None = None

    def deliver(self, raw):
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(raw)

    def drop(self):
        self.writer.transport.abort()


class LoggerHub:
    """Both listeners and the table of connected sticks. `is_known(serial)` says whether an active
    "calls in" datalogger has that serial (an async callable: it may ask the database)."""

    def __init__(
        self,
        is_known,
        *,
        host="0.0.0.0",
        port=10000,
        relay_host="127.0.0.1",
        relay_port=10001,
        on_change=None,
        on_security_event=None,
        locate=None,
        max_connections=MAX_STICKS,
        max_per_address=MAX_PER_ADDRESS,
        probe_seconds=PROBE_SECONDS,
        proxy_protocol=False,
    ):
        self.is_known = is_known
        self.name = ""  # the relay address others reach it at, with several hubs (devices.hubregistry)
        self.on_change = on_change  # async (serial, connected: bool): tells the portal who called in
        self.on_security_event = on_security_event  # async (serial, peer): a claim was refused
        self.locate = locate  # async serial → (host, port) of another hub's relay holding it, or None
        self.host, self.port = host, port
        self.relay_host, self.relay_port = relay_host, relay_port
        self.max_connections, self.max_per_address = max_connections, max_per_address
        self.probe_seconds = probe_seconds
        self.proxy_protocol = proxy_protocol  # sticks arrive through a balancer that says who they are
        self.sticks = {}
        self.servers = []
        self.counters = collections.Counter(
            refused_unknown=0, refused_duplicate=0, refused_capacity=0, garbage=0, relayed=0, taken_over=0
        )
        self.security_events = []  # (time, serial, peer): a claim on a connected stick, refused
        self._connections = 0
        self._per_address = collections.Counter()
        self._accept_error_at = 0.0
        self._token = relay_token().encode()

    async def start(self):
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_error)
        stick_server = await asyncio.start_server(
            self._serve_stick, self.host, self.port, backlog=4096, limit=READ_LIMIT
        )
        relay_server = await asyncio.start_server(
            self._serve_relay, self.relay_host, self.relay_port, backlog=4096
        )
        self.servers = [stick_server, relay_server]
        self.port = stick_server.sockets[0].getsockname()[1]
        self.relay_port = relay_server.sockets[0].getsockname()[1]

    async def stop(self):
        for server in self.servers:
            server.close()
        for stick in list(self.sticks.values()):
            stick.drop()
        self.sticks.clear()

    def _loop_error(self, loop, context):
        """Accept errors (out of descriptors under a flood) come once per connection attempt: logged
        at most once a second, not as 100,000 tracebacks."""
        if "accept" in context.get("message", ""):
            now = time.monotonic()
            if now - self._accept_error_at < 1:
                return
            self._accept_error_at = now
            log.warning("Hub: %s (%s)", context["message"], context.get("exception"))
            return
        loop.default_exception_handler(context)

    # -- the sticks' side -------------------------------------------------------------------------
    async def _serve_stick(self, reader, writer):
        peer = await self._peer(reader, writer)
        address = peer[0] if peer else "?"
        if (
            address == "?"
            or self._connections >= self.max_connections
            or self._per_address[address] >= self.max_per_address
        ):
            self.counters["refused_capacity"] += 1
            writer.transport.abort()
            return
        self._connections += 1
        self._per_address[address] += 1
        _keepalive(writer.get_extra_info("socket"))
        stick = None
        try:
            raw = await asyncio.wait_for(self._next_frame(reader), FIRST_FRAME_SECONDS)
            serial = v5.serial_of(raw)
            stick, claimed = await self._bind(serial, reader, writer, peer, duplicate_ok=True)
            # Refused as a claim on a live stick: never bound later, even once that stick is gone
            # (an impostor must not inherit the serial when the real stick's box reboots).
            looked_up_at, junk = time.monotonic(), 0
            while True:
                junk = await self._on_frame(serial, stick, writer, raw, junk)
                raw = await asyncio.wait_for(self._next_frame(reader), IDLE_SECONDS)
                if stick is None and not claimed and time.monotonic() - looked_up_at > RECHECK_SECONDS:
                    looked_up_at = time.monotonic()
                    stick, claimed = await self._bind(serial, reader, writer, peer, duplicate_ok=False)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, v5.FrameError):
            pass
        except Exception:  # the hub survives anything a stick sends
            log.exception("Stick connection failed")
        finally:
            self._connections -= 1
            self._per_address[address] -= 1
            if not self._per_address[address]:
                del self._per_address[address]
            if stick is not None and self.sticks.get(stick.serial) is stick:
                del self.sticks[stick.serial]
                await self._changed(stick.serial, False)
            if stick is not None:
                stick.deliver(b"")  # a poller waiting on this stick learns at once
            writer.transport.abort()

    async def _peer(self, reader, writer):
        """(address, port) of the stick: the connection's, or behind a TCP balancer the one its
        PROXY protocol v1 line gives (HAProxy's `send-proxy`; the stick's own address, so that the
        per-address limit and the security events name the customer's box, not the balancer).
        None when that line is missing or malformed."""
        peer = writer.get_extra_info("peername")
        if not self.proxy_protocol:
            return peer
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\r\n"), FIRST_FRAME_SECONDS)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return None
        words = line.decode("ascii", "replace").split()
        if len(line) > PROXY_LINE_BYTES or words[:1] != ["PROXY"]:
            return None
        if words[1:2] == ["UNKNOWN"]:  # the balancer's own health check
            return peer
        try:
            return str(ipaddress.ip_address(words[2])), int(words[4])
        except (IndexError, ValueError):
            return None

    async def _next_frame(self, reader):
        try:
            return await v5.read_frame(reader, garbage_limit=GARBAGE_BYTES)
        except v5.FrameError:
            self.counters["garbage"] += 1
            raise

    async def _bind(self, serial, reader, writer, peer, *, duplicate_ok):
        """(the Stick this connection becomes, or None while it may not be polled; whether it was
        refused as a claim on a connected stick). See the module."""
        if not await self.is_known(serial):
            self.counters["refused_unknown"] += 1
            return None, False
        old = self.sticks.get(serial)
        elsewhere = await self.locate(serial) if old is None and self.locate is not None else None
        if old is not None or elsewhere is not None:
            if old is not None:
                ask_old = functools.partial(self.relay, serial, timeout=self.probe_seconds)
            else:
                ask_old = functools.partial(ask_through_relay, elsewhere, serial, timeout=self.probe_seconds)
            if not duplicate_ok or not await self._takes_over(ask_old, serial, reader, writer):
                self.counters["refused_duplicate"] += 1
                await self._refused(serial, peer)
                return None, True
            self.counters["taken_over"] += 1
            log.info("Hub: logger %s called in again from %s; its old connection is dropped", serial, peer)
            if old is not None:
                old.drop()  # (one on another hub is dropped by that hub when it sees this claim)
        stick = Stick(serial, writer)
        self.sticks[serial] = stick
        await self._changed(serial, True)
        return stick, False

    async def _takes_over(self, ask_old, serial, reader, writer):
        """Whether a newcomer claiming `serial` replaces the connection that holds it (`ask_old`
        sends it a request): yes when the old one does not answer, or when both give the same
        inverter serial."""
        reply = await ask_old(identity_request(serial))
        if reply is None:
            return True  # half-open or gone: the stick called in again
        expected = inverter_serial_of(reply)
        writer.write(identity_request(serial))
        await writer.drain()
        deadline = time.monotonic() + self.probe_seconds
        with contextlib.suppress(TimeoutError):
            while (left := deadline - time.monotonic()) > 0:
                raw = await asyncio.wait_for(self._next_frame(reader), left)
                with contextlib.suppress(v5.FrameError):
                    v5.check(raw)
                    if v5.is_stick_own(raw):
                        writer.write(server_answer(raw))
                    elif v5.control_of(raw) == v5.REPLY:
                        given = inverter_serial_of(raw)
                        return expected is not None and given == expected
        return False

    async def _refused(self, serial, peer):
        self.security_events.append((time.time(), serial, peer))
        log.warning("Hub: a connection from %s claimed connected logger %s; not polled", peer, serial)
        if self.on_security_event is not None:
            with contextlib.suppress(Exception):
                await self.on_security_event(serial, peer)

    async def _changed(self, serial, connected):
        if self.on_change is not None:
            with contextlib.suppress(Exception):  # the portal's bookkeeping never breaks a stick's link
                await self.on_change(serial, connected)

    async def _on_frame(self, serial, stick, writer, raw, junk):
        """Answer a stick's own frame, hand a reply to its poller; returns the junk count so far."""
        try:
            v5.check(raw)
        except v5.FrameError:
            self.counters["garbage"] += 1
            if junk + len(raw) > GARBAGE_BYTES:
                raise
            return junk + len(raw)
        if v5.serial_of(raw) != serial:
            return 0  # a frame for another serial on this connection: not this stick's to give
        if stick is not None:
            stick.last_frame_at = time.time()
        if v5.is_stick_own(raw):
            writer.write(server_answer(raw))
            await writer.drain()
        elif stick is not None and v5.control_of(raw) == v5.REPLY:
            stick.deliver(raw)
        return 0

    # -- the pollers' side ------------------------------------------------------------------------
    async def _serve_relay(self, reader, writer):
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\n"), FIRST_FRAME_SECONDS)
            serial = self._relay_serial(line)
            if serial is None:
                return
            if serial not in self.sticks:
                writer.write(NOT_CALLED_IN)
                await writer.drain()
                return
            writer.write(OK)
            await writer.drain()
            while True:
                request = await asyncio.wait_for(v5.read_frame(reader), RELAY_IDLE_SECONDS)
                reply = await self.relay(serial, request)
                if reply is None:
                    return  # the stick left or gave no answer: the poller sees the connection close
                writer.write(reply)
                await writer.drain()
        except (
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
            v5.FrameError,
        ):
            pass
        except Exception:
            log.exception("Relay connection failed")
        finally:
            writer.transport.abort()

    def _relay_serial(self, line):
        """The serial a relay caller names, if it gave the portal's token; None otherwise."""
        words = line.removeprefix(PREAMBLE).split() if line.startswith(PREAMBLE) else []
        if len(words) != 2 or not (words[0].isascii() and words[0].isdigit() and len(words[0]) <= 10):
            return None
        if not constant_time_compare(words[1], self._token):
            log.warning("Hub: a relay caller without the portal's token was refused")
            return None
        return int(words[0])

    async def relay(self, serial, request, *, timeout=REPLY_SECONDS):
        """Send one request frame to the stick and wait for its reply; one request per stick at a time."""
        stick = self.sticks.get(serial)
        if stick is None:
            return None
        async with stick.lock:
            stick.waiting = asyncio.get_running_loop().create_future()
            try:
                stick.writer.write(request)
                await stick.writer.drain()
                reply = await asyncio.wait_for(stick.waiting, timeout)
            except (TimeoutError, ConnectionError):
                return None
            finally:
                stick.waiting = None
        self.counters["relayed"] += 1
        return reply or None

    def drop(self, serials):
        """Close these sticks' connections (another hub holds a newer one)."""
        for serial in serials:
            if (stick := self.sticks.get(serial)) is not None:
                log.info("Hub: logger %s is held by another hub now; its connection here is dropped", serial)
                stick.drop()

    def status(self):
        return {"sticks": len(self.sticks), **self.counters}
