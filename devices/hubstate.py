"""What the portal knows of the logger hub (which runs in its own process): in Redis.

The hub writes which sticks are connected and a heartbeat; pages (the commissioning step's "has it
called in?") and /healthz read them without touching the hub.
"""

import time

from django.utils import timezone

from accounts.models import SecurityEvent
from core.redisconn import redis_client

from .models import Datalogger

CALLED_IN = "aura:hub:called-in"  # hash: serial → Unix time it connected
ALIVE = "aura:hub:alive"  # the hub's heartbeat, with a TTL
ALIVE_SECONDS = 15


def called_in_since(serial):
    """When the stick `serial` connected to the hub, or None if it is not connected now (nor while
    the hub that held it has stopped beating: its list outlives it in Redis)."""
    client = redis_client()
    if not client.exists(ALIVE):
        return None
    value = client.hget(CALLED_IN, str(serial))
    return float(value) if value else None


def hub_status():
    """{"up": bool, "sticks": n} for /healthz."""
    client = redis_client()
    up = bool(client.exists(ALIVE))
    return {"up": up, "sticks": client.hlen(CALLED_IN) if up else 0}


async def record(client, serial, connected):
    await record_many(client, [(serial, connected)])


async def record_many(client, changes):
    """Apply [(serial, connected)] in order, in one round trip."""
    async with client.pipeline(transaction=False) as pipe:
        for serial, connected in changes:
            if connected:
                pipe.hset(CALLED_IN, str(serial), time.time())
            else:
                pipe.hdel(CALLED_IN, str(serial))
        await pipe.execute()


async def republish(client, sticks):
    """The hub's whole list of called-in sticks, replacing what Redis had (after a hub or a Redis
    restart, or writes Redis missed)."""
    now = time.time()
    async with client.pipeline(transaction=True) as pipe:
        pipe.delete(CALLED_IN)
        if sticks:
            pipe.hset(
                CALLED_IN,
                mapping={str(serial): stick.connected_at or now for serial, stick in sticks.items()},
            )
        await pipe.execute()


def record_security_event(serial, peer):
    """The hub refused a connection claiming a connected stick: tell the distributor admin, in one
    event per logger and hour that counts the attempts and lists their addresses."""
    SecurityEvent.repeated(
        SecurityEvent.Kind.HUB_DUPLICATE,
        subject=serial,
        address=peer[0] if peer else None,
        describe=lambda event: (
            f"logger {serial}: {event.count} connection(s) claiming it while it was connected, not "
            f"polled; from {', '.join(event.addresses)}"
        ),
    )


def mark_called_in(serials):
    """Record on the loggers that these sticks called in now."""
    if serials:
        Datalogger.objects.active().filter(serial_number__in=[str(s) for s in serials]).update(
            last_called_in_at=timezone.now()
        )
