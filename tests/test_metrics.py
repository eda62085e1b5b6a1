"""/metrics: what an operator's Prometheus reads, counted across processes in Redis; refused
without the token or an allowed address."""

import ipaddress
import re

import pytest
from django.test import Client

from alarms.models import Alarm
from core.metrics import POLL_SECONDS, POLLS, REQUEST_SECONDS
from core.redisconn import redis_client
from devices import polling

from .conftest import attach_logger

TOKEN = "scraper-token-for-tests"


@pytest.fixture
def scraper(settings):
    settings.METRICS_TOKEN = TOKEN
    redis_client().delete(POLLS, POLL_SECONDS, REQUEST_SECONDS)
    yield Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    redis_client().delete(POLLS, POLL_SECONDS, REQUEST_SECONDS)


def value(body, sample):
    match = re.search(rf"^{re.escape(sample)} (\S+)$", body, re.M)
    return float(match.group(1)) if match else None


def test_polls_loggers_alarms_and_requests_are_counted(scraper, simulator, plant, v5_device, settings):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id], force_info=True)
    v5_device.fault_bits = 1 << 13
    polling.poll_loggers([logger.id])
    scraper.get("/login/")
    body = scraper.get("/metrics").content.decode()
    assert value(body, 'aura_polls_total{outcome="ok"}') == 2
    assert (
        value(body, "aura_poll_seconds_count") == 2
        and value(body, 'aura_poll_seconds_bucket{le="+Inf"}') == 2
    )
    assert value(body, 'aura_loggers{status="online"}') == 1
    assert value(body, 'aura_alarms_open{kind="fault"}') == Alarm.objects.active().count() == 1
    assert value(body, "aura_request_seconds_count") >= 1
    for gauge in ("aura_hub_up", "aura_hub_sticks", 'aura_queue_length{queue="celery"}', "aura_alarm_outbox"):
        assert value(body, gauge) is not None, gauge


def test_it_is_refused_without_the_token_or_an_allowed_address(client, db, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    assert client.get("/metrics").status_code == 200  # the test client's address, allowed
