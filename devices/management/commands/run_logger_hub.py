"""python manage.py run_logger_hub: the server that WiFi sticks call in to (their "Server B")."""

import asyncio
import contextlib
import logging
import resource
import signal
import threading

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand
from redis.exceptions import RedisError

from devices import hubstate
from devices.hub import MAX_STICKS, LoggerHub
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
        "reach the called-in sticks through the local relay (--relay-port, 127.0.0.1 only). Who is "
        "connected is kept in Redis for the portal's pages and /healthz."
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
            help="address of the pollers' relay (default 127.0.0.1; never a public address)",
        )
        parser.add_argument(
            "--relay-port",
            type=int,
            default=settings.LOGGER_HUB_RELAY_PORT,
            help="the pollers' local relay port on 127.0.0.1 (default 10001)",
        )

    def handle(self, *args, **opts):
        asyncio.run(self._run(opts))

    async def _record(self, client, changes, published):
        """Who called in, written to Redis in batches: 10,000 sticks connecting at once are a few
        pipelines, not 10,000 connections. A batch Redis did not take leaves the state to be
        republished whole (`published` cleared) once it answers again."""
        while True:
            batch = [await changes.get()]
            while not changes.empty() and len(batch) < 1000:
                batch.append(changes.get_nowait())
            if published.is_set():
                try:
                    await hubstate.record_many(client, batch)
                except (RedisError, OSError):
                    published.clear()
            with contextlib.suppress(Exception):
                await _called_in([serial for serial, connected in batch if connected])

    async def _run(self, opts):
        limit = raise_descriptor_limit()
        client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
        changes = asyncio.Queue()
        published = (
            asyncio.Event()
        )  # Redis holds the hub's whole state (cleared when it did not take a write)
        hub = LoggerHub(
            _is_known,
            host=opts["host"],
            port=opts["port"],
            relay_host=opts["relay_host"],
            relay_port=opts["relay_port"],
            on_change=lambda serial, connected: changes.put((serial, connected)),
            on_security_event=_security_event,
            # Below the descriptor limit, with room for the relay, Redis and the database.
            max_connections=min(MAX_STICKS, max(limit - 256, limit // 2)),
        )
        recorder = asyncio.create_task(self._record(client, changes, published))
        await hub.start()
        self.stdout.write(
            f"Logger hub: sticks on {opts['host']}:{hub.port}, relay on {opts['relay_host']}:"
            f"{hub.relay_port}, at most {hub.max_connections} connections"
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
        backoff = 1
        try:
            while not stop.is_set():
                # The hub never exits on a Redis error: it keeps its sticks and the relay, and
                # republishes its whole state (alive, who called in) when Redis answers again.
                try:
                    if not published.is_set():
                        await hubstate.republish(client, hub.sticks)
                        published.set()
                        log.info("Hub: state published to Redis (%d sticks)", len(hub.sticks))
                    await client.set(hubstate.ALIVE, 1, ex=hubstate.ALIVE_SECONDS)
                    backoff = 1
                except (RedisError, OSError) as e:
                    if published.is_set() or backoff == 1:
                        log.warning("Hub: Redis unreachable (%s); retrying, sticks stay connected", e)
                    published.clear()
                    backoff = min(backoff * 2, 30)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 5 if backoff == 1 else backoff)
        finally:
            recorder.cancel()
            await hub.stop()
            with contextlib.suppress(RedisError, OSError):
                await client.delete(hubstate.ALIVE, hubstate.CALLED_IN)
            await client.aclose()


def raise_descriptor_limit():
    """One descriptor per called-in stick: the soft limit raised to the hard one; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1_048_576)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft
