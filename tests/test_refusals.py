"""Every refusal a person can meet says why, in their language, and changes nothing: the ones no other
module asserts in words."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Company, ProAccountRequest, User
from devices.models import Inverter, SettingChange
from devices.remote import setting_changes_request
from devices.services import datalogger_move
from plants.models import PlantGrant

from .conftest import api_for, login, make_plant, make_user, text
from .factories import DataloggerFactory, InverterFactory
from .test_account_request import GOOD


def test_a_pro_account_request_with_a_login_already_taken_says_so(client, installer):
    response = client.post(reverse("account_request"), {**GOOD, "login": installer.username})
    assert "Cet identifiant est déjà pris ; choisissez-en un autre." in text(response)
    assert not ProAccountRequest.objects.exists()


@pytest.mark.parametrize(
    ("taken", "words"),
    [("login", "L'identifiant elecbreizh a été pris entre-temps."),
     ("email", "L'e-mail contact@elecbreizh.fr a été pris entre-temps.")],
)  # fmt: skip
def test_approving_a_request_whose_login_or_email_was_taken_meanwhile_says_which(admin_user, taken, words):
    pending = ProAccountRequest.objects.create(**GOOD)
    holder = make_user("elecbreizh" if taken == "login" else "autre", User.Role.CUSTOMER)
    if taken == "email":
        User.objects.filter(pk=holder.pk).update(email=GOOD["email"])
    response = login(admin_user).post(reverse("account_request_detail", args=[pending.pk]), {"approve": "1"})
    assert words in text(response)
    assert not Company.objects.filter(name=GOOD["company_name"]).exists()


def test_a_professional_account_invited_as_a_customer_is_told_it_cannot_accept(installer, plant, company):
    other_installer = make_user("voisin", User.Role.INSTALLER, make_plant(company).company)
    grant = PlantGrant.objects.create(plant=plant, customer=other_installer, granted_by=installer)
    response = login(other_installer).post(reverse("plants:invitation", args=[grant.token]), follow=True)
    assert "Un compte professionnel ne peut pas détenir l'accès d'un client final." in text(response)
    assert PlantGrant.objects.get(pk=grant.pk).accepted_at is None


def test_a_datalogger_cannot_move_to_another_companys_plant(plant, other_company):
    logger = DataloggerFactory(plant=plant)
    with pytest.raises(ValidationError, match="ne peut changer que de centrale de la même société"):
        datalogger_move(logger=logger, to_plant=make_plant(other_company))
    logger.refresh_from_db()
    assert logger.plant_id == plant.pk


@pytest.mark.parametrize("day", ["1999-12-31", "2100-01-01"])
def test_a_day_outside_the_portals_centuries_is_a_400_with_the_reason(installer, plant, day):
    response = api_for(installer).get(f"/api/v1/plants/{plant.pk}/power/", {"date": day})
    assert response.status_code == 400 and "Indiquez une date entre 2000 et 2099." in str(response.json())


def test_a_rejected_inverters_settings_cannot_be_changed(installer, plant):
    inverter = InverterFactory(datalogger__plant=plant)
    Inverter.objects.filter(pk=inverter.pk).update(rejected_at=timezone.now())
    inverter.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        setting_changes_request(inverter=inverter, by=installer, new={"working_mode": 2})
    assert refused.value.messages == [
        "Cet onduleur a été remplacé ou rejeté\u00a0: ses réglages ne peuvent pas être changés."
    ]
    assert not SettingChange.objects.exists()
