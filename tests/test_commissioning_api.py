"""The commissioning API: the checklist, ticks, the site's figures, finishing and the reports, under
the pages' permissions, documented in the OpenAPI."""

import pytest

from commissioning import services
from commissioning.models import Tick

from .commissioning_steps import jpeg, ready_but
from .conftest import api_for

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _quick(settings, tmp_path):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    settings.MEDIA_ROOT = tmp_path


def test_the_checklist_gives_each_item_with_its_state_and_what_is_missing(installer, plant):
    data = api_for(installer).get(f"/api/v1/commissioning/{plant.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    items = {i["key"]: i for i in data["items"]}
    assert items["breaker_distance"]["kind"] == "input"
    assert items["auto_logger"]["result"]["state"] == "failed" and items["auto_logger"]["tick"] is None
    assert (
        "Stop order explained to the customer" in data["missing"]
        and data["commissioning_completed_at"] is None
    )


def test_an_installer_ticks_with_a_photo_and_enters_the_distance(installer, plant):
    api = api_for(installer)
    response = api.post(
        f"/api/v1/commissioning/{plant.pk}/tick/",
        {"item": "screen_remote_control", "photo": jpeg()},
        format="multipart",
    )
    assert (
        response.status_code == 201
        and response.json()["photo"]
        and response.json()["by"] == installer.username
    )
    response = api.patch(
        f"/api/v1/commissioning/{plant.pk}/site/", {"breaker_distance_m": "7.5"}, format="json"
    )
    assert response.status_code == 200 and response.json()["breaker_distance_m"] == 7.5
    keys = [i["key"] for i in api.get(f"/api/v1/commissioning/{plant.pk}/").json()["items"]]
    assert "meter_wiring" in keys and "breaker_distance" not in keys


@pytest.mark.parametrize(
    "body",
    [
        {"item": "auto_no_fault"},
        {"item": "screen_remote_control"},  # a screen item without a photo or a reason
        {"item": "x" * 41},
        {"item": 12},
        {"item": "stop_order_explained", "reason": "\x00"},
    ],
)
def test_bad_ticks_are_refused_with_a_reason_and_change_nothing(installer, plant, body):
    response = api_for(installer).post(f"/api/v1/commissioning/{plant.pk}/tick/", body, format="json")
    assert response.status_code == 400 and response.json()
    assert not Tick.objects.exists()


@pytest.mark.parametrize(("distance", "answer"), [("-1", 400), ("1e9", 400), ("abc", 400), (None, 200)])
def test_a_bad_distance_is_refused_and_none_clears_it(installer, plant, distance, answer):
    services.site_update(plant=plant, breaker_distance_m=3)
    response = api_for(installer).patch(
        f"/api/v1/commissioning/{plant.pk}/site/", {"breaker_distance_m": distance}, format="json"
    )
    assert response.status_code == answer
    kept = plant.commissioning_site.breaker_distance_m if answer == 400 else None
    Site = type(plant.commissioning_site)
    assert Site.objects.get(plant=plant).breaker_distance_m == kept


def test_finishing_through_the_api_says_what_is_missing(installer, plant):
    data = api_for(installer).post(f"/api/v1/commissioning/{plant.pk}/finish/").json()
    assert data["commissioned"] is False and data["missing"] and data["finish_requested"] is False


def test_finishing_a_ready_plant_issues_its_report(
    installer, plant, simulator, v5_device, customer, django_capture_on_commit_callbacks
):
    ready_but(plant, v5_device, simulator, installer=installer, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        data = api_for(installer).post(f"/api/v1/commissioning/{plant.pk}/finish/").json()
    assert data == {"commissioned": True, "missing": [], "finish_requested": False}
    (report,) = api_for(customer).get(f"/api/v1/commissioning/{plant.pk}/reports/").json()
    response = api_for(customer).get(f"/api/v1/commissioning/{plant.pk}/reports/{report['id']}/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")


def test_others_get_nothing_and_change_nothing(installer, plant, stranger, customer, granted_plant):
    report = services.report_make(plant=granted_plant, by=installer)
    for path in ("", "reports/", f"reports/{report.pk}/"):
        assert api_for(stranger).get(f"/api/v1/commissioning/{granted_plant.pk}/{path}").status_code == 404
    # The plant's own customer: no checklist, no report before commissioning, no change.
    own = api_for(customer)
    assert own.get(f"/api/v1/commissioning/{granted_plant.pk}/").status_code == 404
    assert own.get(f"/api/v1/commissioning/{granted_plant.pk}/reports/").status_code == 404
    for action in ("tick", "untick", "finish", "apply", "reports"):
        assert (
            own.post(
                f"/api/v1/commissioning/{granted_plant.pk}/{action}/", {"item": "stop_order_explained"}
            ).status_code
            == 404
        )
        assert (
            api_for(stranger)
            .post(f"/api/v1/commissioning/{granted_plant.pk}/{action}/", {"item": "stop_order_explained"})
            .status_code
            == 404
        )
    assert not Tick.objects.exists()


def test_the_openapi_documents_the_commissioning_operations(installer):
    schema = api_for(installer).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = [p for p in schema["paths"] if p.startswith("/api/v1/commissioning/")]
    for suffix in ("tick/", "untick/", "site/", "apply/", "finish/", "reports/"):
        assert any(p.endswith(suffix) for p in paths), suffix
