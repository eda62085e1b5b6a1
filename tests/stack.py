"""The production stack run natively, for a test or a benchmark: hashed, compressed static files
collected as the image does, the compose web service's own command (gunicorn, production settings)
and Debian's Caddy with the stack's Caddyfile (`tls internal`, as for a LAN name) in front."""

import contextlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("not ready in time")


def web_command(port):
    """The compose web service's own command, bound to `port` on this machine."""
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["command"]
    assert "--bind 0.0.0.0:8000" in command
    return command.replace("0.0.0.0:8000", f"127.0.0.1:{port}")


def get(port, path, *, context=None, headers=None):
    """(status, headers, text) of a GET on localhost: HTTPS with `context`, else plain HTTP."""
    conn = (
        http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
        if context
        else http.client.HTTPConnection("localhost", port, timeout=10)
    )
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read().decode(errors="replace")
    conn.close()
    return response.status, response.headers, body


@dataclass
class Stack:
    https_port: int
    http_port: int
    health_port: int
    context: ssl.SSLContext  # trusts Caddy's own CA
    ca_file: Path
    access_log: Path


@contextlib.contextmanager
def production_stack(workdir: Path, database_url: str):
    """The stack on free ports, its files under `workdir`; stopped on leaving."""
    web, http_port, https_port, health_port = free_port(), free_port(), free_port(), free_port()
    # As the image: hashed, compressed static files collected first, then the service's command with
    # production settings (no STATIC_MANIFEST=0, no DEBUG).
    env = {**os.environ, "HTTPS": "1", "ALLOWED_HOSTS": "localhost", "DATABASE_URL": database_url,
           "STATIC_ROOT": str(workdir / "static"),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}  # fmt: skip
    for name in ("DEBUG", "STATIC_MANIFEST"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    access_log = workdir / "web.log"
    portal = subprocess.Popen(
        ["sh", "-c", web_command(web)], cwd=ROOT, env=env, start_new_session=True,
        stdout=access_log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    caddy = subprocess.Popen(
        ["caddy", "run", "--config", "deploy/Caddyfile", "--adapter", "caddyfile"],
        cwd=ROOT,
        env={**os.environ, "AURA_DOMAIN": "localhost", "AURA_TLS": "tls internal",
             "AURA_UPSTREAM": f"127.0.0.1:{web}", "AURA_HTTP_PORT": str(http_port),
             "AURA_HTTPS_PORT": str(https_port), "AURA_HEALTH_PORT": str(health_port),
             "XDG_DATA_HOME": str(workdir / "data"),
             "XDG_CONFIG_HOME": str(workdir / "config"), "HOME": str(workdir)},
        stdout=subprocess.DEVNULL,  # its access log, one JSON line per request
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    root = workdir / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    try:
        wait_for(lambda: root.exists())
        context = ssl.create_default_context(cafile=str(root))  # Caddy's own CA, verified for real
        wait_for(lambda: get(https_port, "/healthz", context=context)[0] in (200, 503))
        yield Stack(https_port, http_port, health_port, context, root, access_log)
    finally:
        caddy.terminate()
        caddy.wait(10)
        os.killpg(portal.pid, signal.SIGTERM)  # sh and gunicorn's master and workers
        portal.wait(10)
