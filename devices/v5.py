"""Solarman V5 framing: what a stick and its server put on the wire, read and written one frame at a time.

Layout (pysolarmanv5's documentation; serek4/node-red-sofar-inverter, messages/*.md): start 0xA5,
payload length (u16 LE), control code (u16 LE), sequence (2 bytes), logger serial (u32 LE), payload,
checksum (sum of every byte but the first and the last two, mod 256), end 0x15.
A request (0x4510) carries a Modbus RTU frame after 15 bytes of payload header; its reply is 0x1510.
The stick also sends frames of its own, that a client skips: hello 0x4110, data 0x4210, 0x4310,
heartbeat 0x4710 (payload one byte, 00) and 0x4810.
"""

import asyncio
import struct

START, END = 0xA5, 0x15
START_BYTE = bytes([START])
REQUEST, REPLY = 0x4510, 0x1510
HEARTBEAT = 0x4710
STICK_OWN_TYPES = {0x41, 0x42, 0x43, 0x47, 0x48}  # high byte of the stick's own control codes
HEADER = struct.Struct("<BHHHI")  # start, length, control, sequence, serial: 11 bytes
MAX_PAYLOAD = 1024  # larger than any reply of 125 registers (15 + 5 + 250 bytes); more is garbage


class FrameError(Exception):
    """Not a V5 frame (bad start, end, checksum or an impossible length)."""


def checksum(frame):
    return sum(frame[1:-2]) & 0xFF


def frame(control, sequence, serial, payload):
    out = bytearray(HEADER.pack(START, len(payload), control, sequence, serial))
    out += payload + b"\x00\x15"
    out[-2] = checksum(out)
    return bytes(out)


def heartbeat(sequence, serial):
    """The stick's heartbeat (decode_heartbeat.md): 14 bytes, payload one zero byte."""
    return frame(HEARTBEAT, sequence, serial, b"\x00")


def control_of(raw):
    return int.from_bytes(raw[3:5], "little")


def serial_of(raw):
    return int.from_bytes(raw[7:11], "little")


def is_stick_own(raw):
    """A frame the stick sends by itself (hello, data, heartbeat…), not a reply to a request."""
    return raw[3] == 0x10 and raw[4] in STICK_OWN_TYPES


async def read_frame(reader, *, garbage_limit=None):
    """The next whole V5 frame from `reader`; bytes before a start byte are skipped (searched for in
    the buffer as a whole, not byte by byte: a flood of junk costs a `find` per buffer).

    Raises asyncio.IncompleteReadError when the peer hangs up mid-frame, FrameError on a length over
    MAX_PAYLOAD (the stream cannot be trusted after it) or, with `garbage_limit`, when more bytes
    than that come before a start byte. The checksum is checked by `check`.
    """
    skipped = 0
    while True:
        try:
            skipped += len(await reader.readuntil(START_BYTE)) - 1
            break
        except asyncio.LimitOverrunError as e:  # a buffer of junk without a start byte: dropped
            skipped += len(await reader.readexactly(e.consumed))
        if garbage_limit is not None and skipped > garbage_limit:
            raise FrameError(f"{skipped} bytes without a frame")
    if garbage_limit is not None and skipped > garbage_limit:
        raise FrameError(f"{skipped} bytes without a frame")
    rest = await reader.readexactly(HEADER.size - 1)
    length = int.from_bytes(rest[0:2], "little")
    if length > MAX_PAYLOAD:
        raise FrameError(f"payload of {length} bytes")
    return bytes([START]) + rest + await reader.readexactly(length + 2)


def check(raw):
    """Raise FrameError unless `raw` ends right and its checksum is good."""
    if raw[-1] != END or raw[-2] != checksum(raw):
        raise FrameError("bad end or checksum")
