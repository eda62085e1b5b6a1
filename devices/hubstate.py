"""What the portal knows of the logger hubs (each runs in its own process): in Redis.

The hubs register which sticks they hold (devices.hubregistry); pages (the commissioning step's "has
it called in?") and /healthz read it without touching a hub.
"""

from django.utils import timezone

from accounts.models import SecurityEvent
from core.redisconn import redis_client

from . import hubregistry
from .models import Datalogger


def called_in_since(serial):
    """When the stick `serial` connected to a hub, or None if no live hub holds it now."""
    return hubregistry.called_in_since(redis_client(), serial)


def hub_status():
    """{"up": bool, "hubs": n, "sticks": n} for /healthz."""
    return hubregistry.status(redis_client())


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
