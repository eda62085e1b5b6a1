"""What the portal knows of the logger hub (which runs in its own process): in Redis.

The hub writes which sticks are connected and a heartbeat; pages (the commissioning step's "has it
called in?") and /healthz read them without touching the hub.
"""

import time

from django.utils import timezone

from portal.models import SecurityEvent
from portal.redisconn import redis_client

from .models import Datalogger

CALLED_IN = "aura:hub:called-in"  # hash: serial → Unix time it connected
ALIVE = "aura:hub:alive"  # the hub's heartbeat, with a TTL
ALIVE_SECONDS = 15


def called_in_since(serial):
    """When the stick `serial` connected to the hub, or None if it is not connected now."""
    value = redis_client().hget(CALLED_IN, str(serial))
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


def record_security_event(serial, peer):
    """The hub refused a second connection claiming a connected stick: tell the distributor admin."""
    SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.HUB_DUPLICATE,
        detail=f"logger {serial}: a second connection from {peer[0] if peer else '?'} was refused",
    )


def mark_called_in(serials):
    """Record on the loggers that these sticks called in now."""
    if serials:
        Datalogger.objects.active().filter(serial_number__in=[str(s) for s in serials]).update(
            last_called_in_at=timezone.now()
        )
