"""API tokens (`integrations`): made on their page and shown once, stored hashed, narrowed by their
scopes and plants, refused at once when revoked or expired, counted by a quota (429, Retry-After)."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from alarms.models import Alarm
from core.access import TokenScope
from devices.models import SettingChange
from integrations.models import ApiToken
from integrations.services import api_token_create
from portal.urls import router, urlpatterns

from .conftest import login, make_plant
from .factories import InverterFactory, api_token, open_alarm


def bearer(secret):
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def inverter(plant):
    return InverterFactory(datalogger__plant=plant)


def test_a_token_is_shown_once_and_only_its_digest_is_stored(installer):
    client = login(installer)
    response = client.post(reverse("api_tokens"), {"name": "Home Assistant", "scopes": ["read"], "days": 90})
    assert response.status_code == 302
    page = client.get(reverse("api_tokens")).content.decode()
    (token,) = ApiToken.objects.filter(user=installer)
    secret = page.split('readonly value="')[1].split('"')[0]
    assert secret.startswith("aura_") and len(secret) > 40
    assert bearer(secret).get("/api/v1/plants/").status_code == 200
    assert secret not in client.get(reverse("api_tokens")).content.decode()  # once
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM integrations_apitoken t")
        assert secret not in cursor.fetchone()[0] and token.prefix == secret[:13]
    assert token.expires_at - timezone.now() > timedelta(days=89)


def test_a_read_token_cannot_acknowledge_or_touch_the_inverter_settings(installer, plant, inverter):
    alarm = open_alarm(inverter.datalogger, "F13")
    api = bearer(api_token(installer, scopes=["read"]))
    assert api.get(f"/api/v1/alarms/{alarm.pk}/").status_code == 200
    refused = api.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {"note": "vu"})
    assert refused.status_code == 403 and "droits de ce jeton" in refused.json()["detail"]
    assert api.get(f"/api/v1/inverters/{inverter.pk}/settings/").status_code == 403  # read live: control
    assert (
        api.post(f"/api/v1/inverters/{inverter.pk}/settings/", {"changes": {"working_mode": 2}}).status_code
        == 403
    )
    assert api.post("/api/v1/plants/", {"name": "X"}).status_code == 403  # manage
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is None and not SettingChange.objects.exists()


def test_an_alarms_token_acknowledges_and_writes_no_setting(installer, plant, inverter):
    alarm = open_alarm(inverter.datalogger, "F13")
    api = bearer(api_token(installer, scopes=["read", "alarms"]))
    assert api.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {"note": "vu"}).status_code == 200
    assert Alarm.objects.get(pk=alarm.pk).acknowledged_at is not None
    assert (
        api.post(f"/api/v1/inverters/{inverter.pk}/settings/", {"changes": {"working_mode": 2}}).status_code
        == 403
    )


def test_a_token_never_does_more_than_its_user(customer, granted_plant, inverter):
    """A customer's token reads; the customer still changes nothing, whatever the token says."""
    alarm = open_alarm(inverter.datalogger, "F13")
    api = bearer(api_token(customer))
    assert api.get(f"/api/v1/plants/{granted_plant.pk}/live/").status_code == 200
    assert api.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/").status_code == 403


def test_a_revoked_token_is_refused_at_once(installer):
    secret = api_token(installer)
    api = bearer(secret)
    assert api.get("/api/v1/me/").status_code == 200
    token = ApiToken.objects.get(user=installer)
    login(installer).post(reverse("api_token_revoke", args=[token.pk]))
    refused = api.get("/api/v1/me/")
    assert refused.status_code == 401 and "révoqué" in refused.json()["detail"]
    assert refused["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_refused_without_any_task_running(installer):
    secret = api_token(installer)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bearer(secret).get("/api/v1/me/").status_code == 401


def test_a_token_limited_to_one_plant_sees_only_it(installer, company, plant, inverter):
    other = make_plant(company, name="Chez Paul")
    other_inverter = InverterFactory(datalogger__plant=other)
    open_alarm(inverter.datalogger, "F13")
    hidden = open_alarm(other_inverter.datalogger, "F13")
    api = bearer(api_token(installer, scopes=["read", "alarms"], plants=[plant]))
    assert [p["id"] for p in api.get("/api/v1/plants/").json()["results"]] == [plant.pk]
    assert api.get(f"/api/v1/plants/{other.pk}/").status_code == 404
    assert api.get(f"/api/v1/plants/{other.pk}/live/").status_code == 404
    assert hidden.pk not in [a["id"] for a in api.get("/api/v1/alarms/").json()["results"]]
    assert api.post(f"/api/v1/alarms/{hidden.pk}/acknowledge/").status_code == 404
    assert api.get("/api/v1/fleet/").json()["plants"] == 1  # not the company's stored counts
    assert login(installer).get("/api/v1/fleet/").json()["plants"] == 2  # the session sees all


def test_the_quota_answers_429_with_retry_after_and_counts_each_token_apart(installer, settings):
    settings.API_TOKEN_QUOTA = 3
    api, other = bearer(api_token(installer)), bearer(api_token(installer))
    assert [api.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/api/v1/me/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= settings.API_TOKEN_QUOTA_SECONDS
    assert other.get("/api/v1/me/").status_code == 200
    assert login(installer).get("/api/v1/me/").status_code == 200  # a session is not counted


def test_the_last_use_and_its_address_are_shown(installer):
    bearer(api_token(installer)).get("/api/v1/me/", REMOTE_ADDR="192.0.2.7")
    page = login(installer).get(reverse("api_tokens")).content.decode()
    assert "192.0.2.7" in page and "Outil" in page


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer " + "x" * 500, "Bearer aura_\u00e9\u00e9", "Token nope"],
)
def test_a_malformed_or_unknown_token_is_a_401_with_its_reason(db, header):
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401 and response.json()["detail"]


def test_scopes_plants_and_expiry_beyond_the_users_rights_are_refused(installer, customer, other_company):
    soon = timezone.now() + timedelta(days=30)
    with pytest.raises(ValidationError, match="ne peut pas donner"):
        api_token_create(user=customer, name="x", scopes=["read", "alarms"], expires_at=soon)
    with pytest.raises(ValidationError, match="ne peut pas donner"):
        api_token_create(user=installer, name="x", scopes=["admin"], expires_at=soon)
    with pytest.raises(ValidationError, match="centrales que vous voyez"):
        api_token_create(
            user=installer, name="x", scopes=["read"], expires_at=soon, plants=[make_plant(other_company)]
        )
    with pytest.raises(ValidationError, match="au plus"):
        api_token_create(user=installer, name="x", scopes=["read"], expires_at=soon + timedelta(days=400))
    assert not ApiToken.objects.exists()


def test_the_page_refuses_a_scope_the_role_cannot_give_with_its_reason(customer):
    response = login(customer).post(reverse("api_tokens"), {"name": "x", "scopes": ["control"], "days": 30})
    assert response.status_code == 200 and "control" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_every_api_view_checks_the_tokens_scope_first():
    views = [viewset for _prefix, viewset, _basename in router.registry]
    views += [p.callback.cls for p in urlpatterns if hasattr(getattr(p, "callback", None), "cls")]
    for view in views:
        if view.__module__.startswith("drf_spectacular"):
            continue  # the schema and its docs page: read-only, SPECTACULAR_SETTINGS' permissions
        assert view.permission_classes[0] is TokenScope, view


def test_the_openapi_documents_the_bearer_scheme_and_the_quota(installer):
    schema = login(installer).get("/api/v1/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    answer = schema["paths"]["/api/v1/plants/"]["get"]["responses"]["429"]
    assert "Retry-After" in answer["headers"] and "120 requests per 60 s" in answer["description"]


def test_a_token_made_before_scopes_keeps_working_with_its_roles_scopes(installer):
    """The upgrade converts DRF's one-per-user tokens (integrations migration 0002)."""
    convert = import_module("integrations.migrations.0002_tokens_of_before").convert
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz, user_id int)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", ["f" * 40, installer.pk])
    with connection.schema_editor() as editor:
        convert(apps, editor)
    token = ApiToken.objects.get(user=installer)
    assert sorted(token.scopes) == ["alarms", "control", "manage", "read"]
    assert APIClient(HTTP_AUTHORIZATION=f"Token {'f' * 40}").get("/api/v1/me/").status_code == 200
