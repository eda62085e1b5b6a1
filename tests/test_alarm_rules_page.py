"""The alarm rules page and API: a company's delays and threshold rules, its installers only."""

import pytest
from django.urls import reverse

from alarms.models import AlarmPolicy, ThresholdRule

from .conftest import api_for, login, make_plant, text

pytestmark = pytest.mark.integration

POLICY = {
    "policy": "1",
    "fault_delay_minutes": "0",
    "warning_delay_minutes": "15",
    "communication_delay_minutes": "0",
    "quiet_minutes": "60",
    "code_delays_text": "w07=0, W20 = 30",
}


def test_an_installer_sets_the_companys_delays_in_words(installer, company):
    client = login(installer)
    assert "Alertes : prévenir après" in text(client.get(reverse("alarms:rules")))
    client.post(reverse("alarms:rules"), POLICY)
    policy = AlarmPolicy.objects.get(company=company)
    assert policy.warning_delay_minutes == 15 and policy.code_delays == {"W07": 0, "W20": 30}


@pytest.mark.parametrize("typed", ["W07", "ZZ9=5", "W07=99999", "W07=-1"])
def test_a_bad_per_code_delay_is_refused_with_its_reason(installer, company, typed):
    response = login(installer).post(reverse("alarms:rules"), {**POLICY, "code_delays_text": typed})
    assert response.status_code == 200 and "field-error" in text(response)
    assert not AlarmPolicy.objects.exists()


def test_an_installer_adds_a_rule_on_a_list_of_plants(installer, company, other_company):
    mine = make_plant(company, name="Chez moi")
    theirs = make_plant(other_company, name="Chez eux")
    rule = {"rule": "1", "name": "SOC bas", "value": "battery_soc", "comparison": "below", "threshold": "15",
            "minutes": "30", "system_type": "", "enabled": "on"}  # fmt: skip
    client = login(installer)
    client.post(reverse("alarms:rules"), {**rule, "plants": [theirs.pk]})
    assert not ThresholdRule.objects.exists()  # another company's plant is not a choice
    client.post(reverse("alarms:rules"), {**rule, "plants": [mine.pk]})
    saved = ThresholdRule.objects.get()
    assert saved.company == company and list(saved.plants.all()) == [mine]
    page = text(client.get(reverse("alarms:rules")))
    assert "État de charge batterie (%) sous 15 pendant 30 min" in page


def test_the_api_edits_rules_and_the_policy_for_the_own_company_only(installer, stranger, customer, company):
    api = api_for(installer)
    created = api.post(
        "/api/v1/alarm-rules/",
        {"name": "Tension", "value": "grid_voltage", "comparison": "above", "threshold": 253, "minutes": 10},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert api.patch("/api/v1/alarm-policy/", {"code_delays": {"W07": 5}}, format="json").status_code == 200
    assert AlarmPolicy.objects.get(company=company).code_delays == {"W07": 5}
    bad = api.patch("/api/v1/alarm-policy/", {"code_delays": {"NOPE": 5}}, format="json")
    assert bad.status_code == 400 and "NOPE" in str(bad.json())
    rule_id = created.json()["id"]
    assert api_for(stranger).get(f"/api/v1/alarm-rules/{rule_id}/").status_code == 404
    assert api_for(stranger).get("/api/v1/alarm-rules/").json()["results"] == []
    assert api_for(customer).get("/api/v1/alarm-rules/").status_code == 403
    assert (
        api_for(customer).patch("/api/v1/alarm-policy/", {"quiet_minutes": 1}, format="json").status_code
        == 403
    )


def test_a_rule_with_its_plants_is_created_through_the_api(installer, company):
    plant = make_plant(company, name="Listée")
    response = api_for(installer).post(
        "/api/v1/alarm-rules/",
        {
            "name": "SOC",
            "value": "battery_soc",
            "comparison": "below",
            "threshold": 15,
            "minutes": 30,
            "plants": [plant.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert list(ThresholdRule.objects.get().plants.all()) == [plant]
