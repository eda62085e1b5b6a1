"""The web server's worker model (deploy/gunicorn.conf.py): slow downloads never block other people.

A real gunicorn with the deployment's settings and a single worker process, the portal's test
database behind it. Two clients start downloading a long readings CSV and stop reading (a phone that
went into a tunnel): their downloads hold what serves them. Another installer's page must still be
served meanwhile; with one sync worker it would wait until both downloads gave up."""

import http.client
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from devices.models import Datalogger, Inverter

from .conftest import login
from .stack import ROOT, free_port, wait_for
from .test_production_stack import database_url

pytestmark = pytest.mark.slow  # another process
FIRST = timezone.localdate().replace(day=1)


def a_long_history(plant):
    """60 inverters' 5-minute readings over ten days of this month (its partition exists): a download
    of about 15 MB, that far outlasts the sockets' buffers."""
    loggers = Datalogger.objects.bulk_create(
        Datalogger(plant=plant, serial_number=str(2405000000 + i), host="127.0.0.1") for i in range(60)
    )
    Inverter.objects.bulk_create(
        Inverter(datalogger=lg, serial_number=f"KS{lg.serial_number}") for lg in loggers
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO devices_reading (inverter_id, slot, pv_power, load_power, grid_power, battery_soc)
            SELECT i.id, s, 1500, 800, -300, 550
            FROM devices_inverter i,
                generate_series(%s::date, %s::date + interval '10 days', interval '5 minutes') s
            WHERE i.datalogger_id = ANY(%s)
            """,
            [FIRST, FIRST, [lg.pk for lg in loggers]],
        )


@pytest.mark.django_db(transaction=True)
def test_two_stalled_downloads_leave_the_portal_serving_others(installer, plant, tmp_path):
    a_long_history(plant)
    cookie = f"sessionid={login(installer).cookies['sessionid'].value}"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-c", "deploy/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    stalled = []
    try:
        wait_for(lambda: _get(port, "/login/") == 200)
        path = f"/plants/{plant.pk}/readings.csv?start={FIRST}&end={FIRST + timedelta(days=10)}"
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.connect()
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a slow phone's window
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            assert response.status == 200
            response.read(1024)  # under way, then never read again
            stalled.append(conn)
        assert _get(port, "/", cookie=cookie) == 200  # the fleet home, served meanwhile
    finally:
        for conn in stalled:
            conn.close()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


def _get(port, path, cookie=""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()
