"""The production stack's TLS front, run natively: Debian's Caddy with the stack's own Caddyfile
(`tls internal`, as for a LAN name) in front of gunicorn with production settings. An HTTPS request
reaches the portal, a login works with secure cookies and HSTS, plain HTTP is sent to HTTPS on the
right port. The docker-compose file is checked for what the stack needs (no Docker engine here)."""

import http.client
import os
import re
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
import yaml
from django.conf import settings
from django.test.utils import override_settings

from core.heartbeat import (
    POLL_CYCLE_KEY,
    WORKERS_KEY,
    WORKERS_WITHOUT_DATABASE_KEY,
    poll_cycle_sent,
    worker_heartbeat,
)
from core.redisconn import redis_client

from .conftest import PASSWORD
from .stack import ROOT, get, production_stack, wait_for

pytestmark = pytest.mark.slow  # tests/README.md: other processes (gunicorn, Caddy, manage.py)


def database_url():
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def stack(tmp_path):
    with production_stack(tmp_path, database_url()) as running:
        yield running.https_port, running.http_port, running.context, running.health_port, running.access_log


@pytest.mark.django_db(transaction=True)
def test_https_through_caddy_reaches_the_portal_and_logs_in(stack, installer):
    https_port, http_port, context, health_port, access_log = stack
    # The stack checks passwords as production does: hashed with its hasher, not the tests' MD5.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        installer.set_password(PASSWORD)
        installer.save()
    assert get(health_port, "/health")[0] == 200  # what the compose health check asks Caddy
    status, headers, body = get(https_port, "/login/", context=context)
    first_page = body
    assert status == 200 and "Connexion" in body
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    csrf = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
    assert "Secure" in headers["Set-Cookie"]
    # Static files go out compressed, with Brotli or gzip; the login page loads no htmx.
    assert "htmx.min" not in body  # no page before login uses it
    # A first visit gets the stylesheets inline, and their hashed URLs to fetch once it has loaded.
    assert re.search(r'<style nonce="[^"]+">', body)
    stylesheet = re.search(r'data-stylesheets="(/static/vendor/pico\.min\.[0-9a-f]+\.css) ', body).group(1)
    sizes = {}
    for encoding in ("br", "gzip", "identity"):
        got, got_headers, _ = get(
            https_port, stylesheet, context=context, headers={"Accept-Encoding": encoding}
        )
        assert got == 200 and got_headers.get("Content-Encoding", "identity") == encoding
        sizes[encoding] = int(got_headers["Content-Length"])
    assert sizes["br"] < sizes["gzip"] < sizes["identity"] / 4

    conn = http.client.HTTPSConnection("localhost", https_port, context=context, timeout=10)
    origin = f"https://localhost:{https_port}"
    conn.request(
        "POST",
        "/login/",
        body=urlencode({"username": installer.username, "password": PASSWORD, "csrfmiddlewaretoken": csrf}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}",
                 "Origin": origin, "Referer": f"{origin}/login/"},
    )  # fmt: skip
    response = conn.getresponse()
    response.read()
    assert response.status == 302
    cookies = response.headers.get_all("Set-Cookie")
    session = next(c for c in cookies if c.startswith("sessionid="))
    assert "Secure" in session and "HttpOnly" in session
    # The stylesheets fetched after the first page (portal.js): the next pages link them.
    styles = "styles=" + re.search(r'data-styles="([^"]+)"', first_page).group(1)
    cookie = f"{session.split(';')[0]}; {styles}"
    status, _headers, body = get(https_port, "/", context=context, headers={"Cookie": cookie})
    assert status == 200 and "Mon parc" in body
    stylesheet = re.search(r'href="(/static/vendor/pico\.min\.[0-9a-f]{12}\.css)"', body).group(1)
    status, headers, css = get(https_port, stylesheet, context=context, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]  # hashed names are cached for good
    request_id = headers["X-Request-ID"]  # returned by the portal, written in its access log
    wait_for(lambda: f"request_id={request_id}" in access_log.read_text())
    line = next(line for line in access_log.read_text().splitlines() if f"request_id={request_id}" in line)
    assert f'"GET {stylesheet} HTTP/1.1" 200' in line


def test_plain_http_is_sent_to_https_on_the_right_port(stack):
    https_port, http_port, _context, _health, _log = stack
    status, headers, _body = get(http_port, "/login/")
    assert status in (301, 308)
    assert headers["Location"] == f"https://localhost:{https_port}/login/"  # the port that is published


def test_the_compose_file_has_what_a_production_stack_needs():
    stack = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = stack["services"]
    for name, service in services.items():
        merged = service  # the YAML anchor (x-portal) is already merged by the loader
        assert merged.get("restart") == "unless-stopped", name
        assert "healthcheck" in merged, name
    published = {name: service.get("ports", []) for name, service in services.items()}
    assert published["caddy"] == ["80:80", "443:443"]
    assert published["hub-balancer"] == ["10000:10000"]  # the sticks' port, in front of the hubs
    assert all(not ports for name, ports in published.items() if name not in ("caddy", "hub-balancer"))
    assert services["hub"]["deploy"]["replicas"] >= 2
    assert "./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in services["hub-balancer"]["volumes"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["caddy"]["volumes"]
    assert services["beat"]["deploy"]["replicas"] == 1


def test_the_compose_health_checks_run_what_they_say():
    """Exec-form checks get no shell: a `$$VAR` there is a literal; each role's check is one of ours."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name, service in services.items():
        test = service["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
        if test[0] == "CMD":
            assert not any("$" in part for part in test), f"{name}: {test}"
    assert services["worker"]["healthcheck"]["test"][1:] == ["python", "manage.py", "healthcheck", "worker"]
    assert services["beat"]["healthcheck"]["test"][1:] == ["python", "manage.py", "healthcheck", "beat"]
    assert services["caddy"]["healthcheck"]["test"][-1] == "http://127.0.0.1:2080/health"
    assert "beat:/data/beat" in services["beat"]["volumes"]
    assert "--schedule /data/beat/" in services["beat"]["command"]
    for role in ("worker", "beat"):
        assert "migrate --check" in services[role]["command"], role
    assert int(services["worker"]["stop_grace_period"].rstrip("s")) > 120
    assert services["hub"]["ulimits"]["nofile"]["soft"] >= 65536


@pytest.mark.django_db
def test_the_role_checks_tell_a_working_role_from_a_stopped_one(settings):
    client = redis_client()
    client.delete(WORKERS_KEY, WORKERS_WITHOUT_DATABASE_KEY, POLL_CYCLE_KEY)
    # The commands read this pytest-xdist worker's Redis database, where the test writes.
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL}
    check = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "manage.py", "healthcheck", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert check("worker", "--hostname", "celery@w1").returncode == 1
    worker_heartbeat("celery@w1", database_ok=False)
    refused = check("worker", "--hostname", "celery@w1")
    assert refused.returncode == 1 and "cannot reach the database" in refused.stderr
    worker_heartbeat("celery@w1")
    assert check("worker", "--hostname", "celery@w1").returncode == 0
    assert check("beat").returncode == 1
    poll_cycle_sent()
    assert check("beat").returncode == 0
    client.set(POLL_CYCLE_KEY, time.time() - 3 * settings.POLL_INTERVAL_SECONDS - 1)
    assert check("beat").returncode == 1
    client.delete(WORKERS_KEY, WORKERS_WITHOUT_DATABASE_KEY, POLL_CYCLE_KEY)
