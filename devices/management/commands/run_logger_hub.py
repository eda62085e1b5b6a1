"""python manage.py run_logger_hub: the server that WiFi sticks call in to (their "Server B")."""

import asyncio
import contextlib
import functools
import ipaddress
import logging
import resource
import signal
import socket
import threading

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand
from redis.exceptions import RedisError

from devices import hubregistry, hubstate
from devices.hub import MAX_PER_ADDRESS, MAX_STICKS, LoggerHub
from devices.models import Datalogger, Reach

log = logging.getLogger(__name__)


@sync_to_async
def _is_known(serial):
    return Datalogger.objects.active().filter(reach=Reach.HUB, serial_number=str(serial)).exists()


_security_event = sync_to_async(hubstate.record_security_event)
_called_in = sync_to_async(hubstate.mark_called_in)


class Command(BaseCommand):
    help = (
        "Run the logger hub. WiFi sticks whose Server B is this portal (address, --port, TCP, client mode) "
        "connect here; a stick is accepted when an active 'calls in' datalogger has its serial. Pollers "
        "reach the called-in sticks through its relay (--relay-port). Several hubs may share one fleet: "
        "each registers the sticks it holds in Redis, where pollers and pages find them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--host", default="0.0.0.0", help="address the sticks connect to (default 0.0.0.0)"
        )
        parser.add_argument(
            "--port", type=int, default=settings.LOGGER_HUB_PORT, help="the sticks' port (default 10000)"
        )
        parser.add_argument(
            "--relay-host",
            default=settings.LOGGER_HUB_RELAY_HOST,
            help="address of the pollers' relay (default 127.0.0.1; a private address with several "
            "machines, never a public one)",
        )
        parser.add_argument(
            "--relay-port",
            type=int,
            default=settings.LOGGER_HUB_RELAY_PORT,
            help="the pollers' relay port (default 10001)",
        )
        parser.add_argument(
            "--proxy-protocol",
            action="store_true",
            help="the sticks arrive through a TCP balancer that sends the PROXY protocol (v1) line "
            "(HAProxy's send-proxy): limits and security events then name each stick's own address",
        )
        parser.add_argument(
            "--max-per-address",
            type=int,
            default=MAX_PER_ADDRESS,
            help=f"connections at most from one address (default {MAX_PER_ADDRESS}: a carrier-grade NAT)",
        )
        parser.add_argument(
            "--relay-advertise",
            default="",
            help="host:port at which pollers and the other hubs reach this relay (default: the relay "
            "address; this machine's address when the relay listens on all of them)",
        )

    def handle(self, *args, **opts):
        asyncio.run(self._run(opts))

    async def _record(self, hub, client, changes, published):
        """Who called in, written to Redis in batches: 10,000 sticks connecting at once are a few
        Redis calls, not 10,000. A batch Redis did not take leaves the state to be republished whole
        (`published` cleared) once it answers again. A claim lost to a newer connection on another
        hub drops the connection here."""
        while True:
            final = {}  # serial → connected, the last change of the batch
            final.update([await changes.get()])
            while not changes.empty() and len(final) < 1000:
                final.update([changes.get_nowait()])
            connected = {s: hub.sticks[s].connected_at for s, now in final.items() if now and s in hub.sticks}
            if published.is_set():
                try:
                    hub.drop(await hubregistry.claim(client, hub.name, connected))
                    await hubregistry.release(client, hub.name, [s for s, now in final.items() if not now])
                except (RedisError, OSError):
                    published.clear()
            with contextlib.suppress(Exception):
                await _called_in(list(connected))

    async def _beat(self, hub, client, published, beats):
        """Every few seconds: the state republished if Redis missed some of it, the heartbeat, the
        sticks another hub took over dropped, and (every minute) the entries of dead hubs removed."""
        if not published.is_set():
            hub.drop(await hubregistry.republish(client, hub.name, hub.sticks))
            published.set()
            log.info("Hub: state published to Redis (%d sticks)", len(hub.sticks))
        superseded, missing = await hubregistry.beat(client, hub.name, hub.sticks)
        hub.drop(superseded)
        hub.drop(await hubregistry.claim(client, hub.name, missing))
        if beats % 12 == 0:
            await hubregistry.prune(client)

    async def _run(self, opts):
        limit = raise_descriptor_limit()
        client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
        changes = asyncio.Queue()
        published = asyncio.Event()  # Redis holds the hub's whole state (cleared when it missed a write)
        hub = LoggerHub(
            _is_known,
            host=opts["host"],
            port=opts["port"],
            relay_host=opts["relay_host"],
            relay_port=opts["relay_port"],
            on_change=lambda serial, connected: changes.put((serial, connected)),
            on_security_event=_security_event,
            proxy_protocol=opts["proxy_protocol"],
            max_per_address=opts["max_per_address"],
            # Below the descriptor limit, with room for the relay, Redis and the database.
            max_connections=min(MAX_STICKS, max(limit - 256, limit // 2)),
        )
        await hub.start()
        hub.name = opts["relay_advertise"] or advertised(opts["relay_host"], hub.relay_port)
        hub.locate = functools.partial(self._elsewhere, client, hub.name)
        recorder = asyncio.create_task(self._record(hub, client, changes, published))
        self.stdout.write(
            f"Logger hub {hub.name}: sticks on {opts['host']}:{hub.port}, relay on {opts['relay_host']}:"
            f"{hub.relay_port}, at most {hub.max_connections} connections"
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
        backoff, beats = 1, 0
        try:
            while not stop.is_set():
                # The hub never exits on a Redis error: it keeps its sticks and the relay, and
                # republishes its whole state when Redis answers again.
                try:
                    await self._beat(hub, client, published, beats)
                    backoff, beats = 1, beats + 1
                except (RedisError, OSError) as e:
                    if published.is_set() or backoff == 1:
                        log.warning("Hub: Redis unreachable (%s); retrying, sticks stay connected", e)
                    published.clear()
                    backoff = min(backoff * 2, 30)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 5 if backoff == 1 else backoff)
        finally:
            recorder.cancel()
            held = list(hub.sticks)
            await hub.stop()
            with contextlib.suppress(RedisError, OSError):
                await hubregistry.stop(client, hub.name, held)
            await client.aclose()

    @staticmethod
    async def _elsewhere(client, name, serial):
        """The relay of another live hub holding `serial`, or None (Redis down: None, as alone)."""
        try:
            where = await hubregistry.locate(client, [serial])
        except (RedisError, OSError):
            return None
        address = where.get(serial)
        return None if address is None or address == hubregistry.address(name) else address


def advertised(relay_host, relay_port):
    """Where others reach a relay listening on `relay_host`: this machine's address for a wildcard."""
    host = relay_host
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(relay_host).is_unspecified:
            host = socket.gethostbyname(socket.gethostname())
    return f"[{host}]:{relay_port}" if ":" in host else f"{host}:{relay_port}"


def raise_descriptor_limit():
    """One descriptor per called-in stick: the soft limit raised to the hard one; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1_048_576)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft
