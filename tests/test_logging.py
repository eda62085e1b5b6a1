"""Operators can see: every log line has its time, level, request id and user id (JSON on demand),
and the request id is the one the response carries."""

import io
import json
import logging
import re

import pytest
from django.utils.log import configure_logging

from portal.logs import logging_config

from .conftest import login


@pytest.fixture
def log_lines(settings):
    """What the portal's console handler writes, as lines."""
    stream = io.StringIO()

    def configure(*, json_lines=False):
        configure_logging(settings.LOGGING_CONFIG, logging_config(level="INFO", json=json_lines))
        (handler,) = logging.getLogger().handlers
        handler.setStream(stream)

    yield configure, lambda: stream.getvalue().splitlines()
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def test_a_line_logged_while_serving_a_request_names_the_request_and_the_user(installer, log_lines):
    configure, lines = log_lines
    configure()
    response = login(installer).get("/plants/999999/")  # django.request logs the 404
    request_id = response["X-Request-ID"]
    (line,) = [line for line in lines() if "Not Found" in line]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ WARNING ", line)
    assert f"[{request_id}] user={installer.pk} django.request: Not Found: /plants/999999/" in line


def test_a_proxys_request_id_is_kept(client, db):
    response = client.get("/login/", HTTP_X_REQUEST_ID="0f4b1c2d3e4f5a6b7c8d9e0f1a2b3c4d")
    assert response["X-Request-ID"] == "0f4b1c2d3e4f5a6b7c8d9e0f1a2b3c4d"


def test_json_lines_when_asked(client, db, log_lines):
    configure, lines = log_lines
    configure(json_lines=True)
    client.get("/no-such-page/")
    record = json.loads(next(line for line in lines() if "Not Found" in line))
    assert record["level"] in ("WARNING", "INFO") and record["user_id"] == "-"
    assert record["request_id"] not in ("-", None) and record["logger"] == "django.request"
