"""schemathesis over every API operation, as an installer: no 5xx, and every answer as documented.

The schema is the portal's own (drf-spectacular); requests go in-process to the WSGI application
with a real token, against the real test database. Bounded examples per operation keep it quick.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from accounts.models import User
from devices.models import Datalogger, Inverter

from .conftest import make_plant, make_user
from .factories import api_token

RAW = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
schema = schemathesis.openapi.from_dict(RAW)
schema.app = get_wsgi_application()


@pytest.fixture
def in_process(settings):
    """As Django's test client does: the request must not close the test's database connection."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(company, in_process, settings):
    settings.API_TOKEN_QUOTA = 1_000_000  # every operation fuzzed, not the quota (tests/test_api_tokens.py)
    installer = make_user("fuzz", User.Role.INSTALLER, company)
    plant = make_plant(company)
    logger = Datalogger.objects.create(
        plant=plant, serial_number="2355553510", reach="direct", host="192.0.2.1"
    )
    Inverter.objects.create(datalogger=logger, serial_number="KSFUZZ0001")
    return api_token(installer, scopes=["read", "alarms", "control", "manage"])


@pytest.mark.slow  # a sweep: every API operation fuzzed (tests/README.md)
@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_api_operation_answers_a_5xx_or_off_its_schema(case, token):
    # Left out: "valid data is accepted" cannot hold for ids the schema allows and no object has,
    # and anonymous access is the access matrix's (every URL, every actor).
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, excluded_checks=[positive_data_acceptance, ignored_auth]
    )
