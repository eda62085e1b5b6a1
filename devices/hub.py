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
1. the sticks' port (public, 10000 by default): a connection is bound to the serial in the header of
   its first frame, if an active "calls in" datalogger has it (else closed, counted); a second
   connection claiming a connected serial is refused and recorded as a security event. The stick's
   own frames are answered as the public material shows; replies (0x1510) go to the waiting poller.
2. the relay (127.0.0.1 only, 10001 by default): a poller connects, says "AURA-HUB <serial>\\n" and
   gets "OK\\n" (then speaks plain V5 as to the stick itself) or "NOT-CALLED-IN\\n". Requests to one
   stick are relayed one at a time (a stick serves one request at a time), so two pollers never
   interleave on its wire.
Bounded: a maximum frame size, a first frame within FIRST_FRAME_SECONDS (slow clients), sticks
silent for IDLE_SECONDS closed, a maximum number of connections.
"""

import asyncio
import contextlib
import logging
import struct
import time
from dataclasses import dataclass, field

from . import v5

log = logging.getLogger(__name__)

FIRST_FRAME_SECONDS = 30
IDLE_SECONDS = 600  # sticks send a heartbeat every 120 s
REPLY_SECONDS = 10
MAX_STICKS = 20_000
PREAMBLE = b"AURA-HUB "
OK, NOT_CALLED_IN = b"OK\n", b"NOT-CALLED-IN\n"


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
    ):
        self.is_known = is_known
        self.on_change = on_change  # async (serial, connected: bool): tells the portal who called in
        self.on_security_event = on_security_event  # async (serial, peer): an impostor was refused
        self.host, self.port = host, port
        self.relay_host, self.relay_port = relay_host, relay_port
        self.sticks = {}
        self.servers = []
        self.counters = {"refused_unknown": 0, "refused_duplicate": 0, "garbage": 0, "relayed": 0}
        self.security_events = []  # (time, serial, peer): a second connection claiming a connected serial
        self._connections = 0

    async def start(self):
        stick_server = await asyncio.start_server(self._serve_stick, self.host, self.port, backlog=4096)
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
            stick.writer.transport.abort()
        self.sticks.clear()

    # -- the sticks' side -------------------------------------------------------------------------
    async def _serve_stick(self, reader, writer):
        if self._connections >= MAX_STICKS:
            writer.transport.abort()
            return
        self._connections += 1
        stick = None
        try:
            raw = await asyncio.wait_for(v5.read_frame(reader), FIRST_FRAME_SECONDS)
            stick = await self._bind(raw, writer)
            if stick is None:
                return
            await self._on_frame(stick, raw)
            while True:
                raw = await asyncio.wait_for(v5.read_frame(reader), IDLE_SECONDS)
                await self._on_frame(stick, raw)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, v5.FrameError):
            pass
        except Exception:  # the hub survives anything a stick sends
            log.exception("Stick connection failed")
        finally:
            self._connections -= 1
            if stick is not None and self.sticks.get(stick.serial) is stick:
                del self.sticks[stick.serial]
                stick.deliver(b"")  # a poller waiting on this stick learns at once
                await self._changed(stick.serial, False)
            writer.transport.abort()

    async def _bind(self, raw, writer):
        """The stick this connection is, from its first frame's header; None if refused."""
        try:
            v5.check(raw)
        except v5.FrameError:
            self.counters["garbage"] += 1
            return None
        serial = v5.serial_of(raw)
        peer = writer.get_extra_info("peername")
        if not await self.is_known(serial):
            self.counters["refused_unknown"] += 1
            log.info("Hub: refused unknown logger serial %s from %s", serial, peer)
            return None
        if serial in self.sticks:
            self.counters["refused_duplicate"] += 1
            self.security_events.append((time.time(), serial, peer))
            log.warning("Hub: a second connection from %s claimed connected logger %s; refused", peer, serial)
            if self.on_security_event is not None:
                with contextlib.suppress(Exception):
                    await self.on_security_event(serial, peer)
            return None
        stick = Stick(serial, writer)
        self.sticks[serial] = stick
        await self._changed(serial, True)
        return stick

    async def _changed(self, serial, connected):
        if self.on_change is not None:
            with contextlib.suppress(Exception):  # the portal's bookkeeping never breaks a stick's link
                await self.on_change(serial, connected)

    async def _on_frame(self, stick, raw):
        try:
            v5.check(raw)
        except v5.FrameError:
            self.counters["garbage"] += 1
            return
        if v5.serial_of(raw) != stick.serial:
            return  # a frame for another serial on this connection: not this stick's to give
        stick.last_frame_at = time.time()
        if v5.is_stick_own(raw):
            stick.writer.write(server_answer(raw))
            await stick.writer.drain()
        elif v5.control_of(raw) == v5.REPLY:
            stick.deliver(raw)

    # -- the pollers' side ------------------------------------------------------------------------
    async def _serve_relay(self, reader, writer):
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\n"), FIRST_FRAME_SECONDS)
            if not line.startswith(PREAMBLE) or not line[len(PREAMBLE) : -1].isdigit():
                return
            serial = int(line[len(PREAMBLE) : -1])
            if serial not in self.sticks:
                writer.write(NOT_CALLED_IN)
                await writer.drain()
                return
            writer.write(OK)
            await writer.drain()
            while True:
                request = await v5.read_frame(reader)
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

    async def relay(self, serial, request):
        """Send one request frame to the stick and wait for its reply; one request per stick at a time."""
        stick = self.sticks.get(serial)
        if stick is None:
            return None
        async with stick.lock:
            stick.waiting = asyncio.get_running_loop().create_future()
            try:
                stick.writer.write(request)
                await stick.writer.drain()
                reply = await asyncio.wait_for(stick.waiting, REPLY_SECONDS)
            except (TimeoutError, ConnectionError):
                return None
            finally:
                stick.waiting = None
        self.counters["relayed"] += 1
        return reply or None

    def status(self):
        return {"sticks": len(self.sticks), **self.counters}
