"""The plant's live endpoint (`/api/v1/plants/<id>/live/`), the read path for home automation: what a
poll of the real socket stored, the plant's status and the values' age, for a read-scoped token,
in a few queries whatever the plant's history."""

from devices import polling

from .conftest import attach_logger, make_plant
from .factories import api_token
from .test_api_tokens import bearer


def test_a_read_token_gets_the_plants_power_flow_status_and_age(
    installer, plant, simulator, v5_device, django_assert_max_num_queries
):
    v5_device.overrides = {"pv1_power": 2000, "pv2_power": 1500, "battery_power": -800}
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.pk])
    api = bearer(api_token(installer, plants=[plant]))
    api.get(f"/api/v1/plants/{plant.pk}/live/")  # the day's energy caught up since the poll (the beat's)
    with django_assert_max_num_queries(8):  # token, its plants, last use, plant, inverters, today's row
        body = api.get(f"/api/v1/plants/{plant.pk}/live/").json()
    assert body["status"] == "online" and body["status_label"]
    live = body["live"]
    assert live["pv_power"] == 3500 and live["battery_power"] == -800  # charging, in W
    assert 0 <= live["battery_soc"] <= 100 and live["age_s"] < 60 and live["stale"] is False
    assert set(body["today"]) >= {"production_wh", "consumption_wh", "self_sufficiency_pct"}


def test_a_plant_never_read_answers_null_values_not_an_error(installer, company):
    plant = make_plant(company, name="Neuve")
    body = bearer(api_token(installer)).get(f"/api/v1/plants/{plant.pk}/live/").json()
    assert body["live"] is None and body["status"] == "incomplete"
