"""The installer's commissioning flow: plant → datalogger → test → customer → finish."""

import pytest
from django.urls import reverse
from django.utils.timezone import now
from rest_framework.test import APIClient

from accounts.models import User
from devices.models import Datalogger, DeviceStatus, Inverter
from monitoring.status import plants_with_computed_status
from plants.models import BatteryModel, Plant, PlantGrant, PlantStatus

from .conftest import api_for, attach_logger, awake_inverter, login, make_plant, make_user, text

PLANT = {
    "name": "Maison Durand",
    "address": "5 rue D",
    "postcode": "69001",
    "city": "Lyon",
    "time_zone": "Europe/Paris",
    "pv_power_kwp": "6",
    "system_type": "dc_backup",
    "battery_model": "AURA 10KM-BG",
    "grid_code": "14",
}


def logger_form(sn, port=8899):
    return {
        "serial_number": sn,
        "reach": "direct",
        "protocol": "solarman_v5",
        "host": "127.0.0.1",
        "port": port,
        "unit_id": 1,
    }


def stored(plant):
    """The plant as pages read it: its stored status and counts."""
    return Plant.objects.get(pk=plant.pk)


def computed_status(plant):
    return plants_with_computed_status(Plant.objects.all()).get(pk=plant.pk).computed_status


def test_creating_a_plant_leads_to_the_datalogger_step(installer):
    response = login(installer).post(reverse("plants:create"), PLANT)
    plant = Plant.objects.get()
    assert response.url == reverse("plants:commission", args=[plant.pk, "datalogger"])
    assert plant.company == installer.company and plant.grid_code == 14
    assert stored(plant).status == PlantStatus.INCOMPLETE


def test_a_missing_required_field_is_refused_with_its_reason(installer):
    response = login(installer).post(reverse("plants:create"), {**PLANT, "system_type": ""})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not Plant.objects.exists()


@pytest.mark.parametrize("sn", ["23555535", "2355 553510", "AP_2355553510", "9999999999"])
def test_a_malformed_sn_is_refused_with_its_reason(installer, plant, sn):
    response = login(installer).post(
        reverse("plants:commission", args=[plant.pk, "datalogger"]), logger_form(sn)
    )
    assert response.status_code == 200
    assert "numéro de série" in response.content.decode()
    assert not Datalogger.objects.exists()


def test_an_sn_of_another_company_is_refused_without_revealing_its_plant(installer, plant, other_company):
    theirs = make_plant(other_company, name="Secret Yann")
    Datalogger.objects.create(plant=theirs, serial_number="2355553510", reach="direct", host="10.0.0.9")
    response = login(installer).post(
        reverse("plants:commission", args=[plant.pk, "datalogger"]), logger_form("2355553510")
    )
    body = response.content.decode()
    assert "déjà enregistré" in body and "Secret Yann" not in body
    assert Datalogger.objects.get().plant == theirs


def test_an_sn_of_the_same_company_points_to_move(installer, plant, company):
    other = make_plant(company, name="Chez Paul")
    Datalogger.objects.create(plant=other, serial_number="2355553510", reach="direct", host="10.0.0.9")
    response = login(installer).post(
        reverse("plants:commission", args=[plant.pk, "datalogger"]), logger_form("2355553510")
    )
    assert "Chez Paul" in response.content.decode()
    assert Datalogger.objects.get().plant == other


def test_the_api_refuses_a_duplicate_sn_with_the_same_words(installer, plant, other_company):
    Datalogger.objects.create(plant=make_plant(other_company, name="Secret"), serial_number="2355553510")
    api = APIClient()
    api.force_authenticate(installer)
    response = api.post("/api/v1/dataloggers/", {"plant": plant.pk, **logger_form("2355553510")})
    assert response.status_code == 400
    assert "déjà enregistré" in str(response.json()["serial_number"])
    assert "Secret" not in str(response.json())


def test_moving_a_logger_between_plants_of_the_company(installer, plant, company):
    logger = Datalogger.objects.create(plant=plant, serial_number="2355553510")
    other = make_plant(company, name="Chez Paul")
    login(installer).post(
        reverse("plants:datalogger_move", args=[plant.pk, logger.pk]), {"to_plant": other.pk}
    )
    logger.refresh_from_db()
    assert logger.plant == other


def test_the_connection_test_reads_the_inverter_through_the_simulator(installer, plant, simulator, v5_device):
    attach_logger(plant, v5_device, simulator)
    response = login(installer).post(reverse("plants:commission", args=[plant.pk, "test"]))
    body = response.content.decode()
    assert "AU7700001" in body and "BluE-S 6000D" in body and "En ligne" in body
    logger = Datalogger.objects.get()
    assert logger.status == DeviceStatus.ONLINE and logger.inverters.get().serial_number == "AU7700001"
    assert stored(plant).next_step == "customer"


def test_the_connection_test_says_why_it_failed(installer, plant, simulator, settings):
    settings.DEVICE_TIMEOUT_SECONDS = 0.5
    Datalogger.objects.create(
        plant=plant, serial_number="2355553510", reach="direct", host="127.0.0.1", port=1
    )
    body = login(installer).post(reverse("plants:commission", args=[plant.pk, "test"])).content.decode()
    assert "Aucun enregistreur n&#x27;a répondu à cette adresse" in body


def test_the_connection_test_names_a_wrong_serial(installer, plant, simulator):
    Datalogger.objects.create(
        plant=plant, serial_number="1111111111", reach="direct", host="127.0.0.1", port=simulator.v5_port
    )
    body = login(installer).post(reverse("plants:commission", args=[plant.pk, "test"])).content.decode()
    assert "autre numéro de série" in body


def test_authorising_a_new_customer_creates_the_account_and_emails_them(
    installer, plant, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(installer).post(
            reverse("plants:grants", args=[plant.pk]),
            {"email": "Claire@Example.fr", "first_name": "Claire", "from_stepper": "1"},
        )
    assert response.url == reverse("plants:commission", args=[plant.pk, "finish"])
    claire = User.objects.get(email="Claire@Example.fr")
    assert claire.is_customer and PlantGrant.objects.filter(plant=plant, customer=claire).exists()
    assert mailoutbox[0].to == ["Claire@Example.fr"] and "/password-reset/" in mailoutbox[0].body


def test_an_existing_customer_is_granted_not_duplicated(installer, plant, customer, company):
    client = login(installer)
    body = client.get(
        reverse("plants:grant_check", args=[plant.pk]), {"email": customer.email}
    ).content.decode()
    assert "sera invité" in body  # the installer learns nothing about the account
    client.post(reverse("plants:grants", args=[plant.pk]), {"email": customer.email.upper()})
    second = make_plant(company, name="Résidence secondaire")
    client.post(reverse("plants:grants", args=[second.pk]), {"email": customer.email})
    assert User.objects.filter(email__iexact=customer.email).count() == 1
    assert set(customer.plant_grants.values_list("plant__name", flat=True)) == {
        "Maison Martin",
        "Résidence secondaire",
    }


def test_a_pro_email_cannot_become_a_customer_and_the_installer_cannot_tell(
    installer, plant, stranger, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(installer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("plants:grants", args=[plant.pk]), {"email": stranger.email})
    assert response.status_code == 302  # as for any invitation
    page = text(client.get(reverse("plants:grants", args=[plant.pk])))
    assert stranger.email in page and "Invité, pas encore accepté" in page and "professionnel" not in page
    assert "compte professionnel" in mailoutbox[-1].body and mailoutbox[-1].to == [stranger.email]
    grant = PlantGrant.objects.get()
    response = login(stranger).post(reverse("plants:invitation", args=[grant.token]))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.accepted_at is None  # never a customer's access on a professional account


def test_the_stepper_can_be_left_and_resumed(installer, plant, simulator, v5_device):
    client = login(installer)
    body = client.get(reverse("plants:list")).content.decode()
    assert "Ajouter l&#x27;enregistreur" in body or "Ajouter l'enregistreur" in body
    attach_logger(plant, v5_device, simulator)
    assert stored(plant).next_step == "test"
    assert "Tester la connexion" in client.get(reverse("plants:list")).content.decode()
    client.post(reverse("plants:commission", args=[plant.pk, "test"]))
    plant = stored(plant)
    assert plant.next_step == "customer" and plant.status == PlantStatus.ONLINE


def test_deleting_a_plant_is_confirmed_and_keeps_its_history(installer, plant, admin_user):
    client = login(installer)
    client.post(reverse("plants:archive", args=[plant.pk]), {"confirm_name": "wrong"})
    plant.refresh_from_db()
    assert plant.archived_at is None
    client.post(reverse("plants:archive", args=[plant.pk]), {"confirm_name": "Maison Martin"})
    plant.refresh_from_db()
    assert plant.archived_at is not None
    assert client.get(reverse("plants:detail", args=[plant.pk])).status_code == 404
    assert login(admin_user).get(reverse("plants:detail", args=[plant.pk])).status_code == 200


def test_plant_status_rules(plant):
    logger = Datalogger.objects.create(plant=plant, serial_number="2355553510", status=DeviceStatus.ONLINE)
    inverter = logger.inverters.create(serial_number="AU1", status=DeviceStatus.ONLINE)
    assert computed_status(plant) == PlantStatus.ONLINE
    inverter.status = DeviceStatus.OFFLINE
    inverter.save()
    assert computed_status(plant) == PlantStatus.PARTIALLY_OFFLINE
    logger.status = DeviceStatus.OFFLINE
    logger.save()
    assert computed_status(plant) == PlantStatus.OFFLINE
    logger.status = inverter.status = DeviceStatus.ASLEEP
    logger.save()
    inverter.save()
    assert computed_status(plant) == PlantStatus.ONLINE


def test_the_fleet_list_filters_by_status_and_city(installer, plant, company):
    make_plant(company, name="Ferme Bretonne", city="Rennes")
    client = login(installer)
    body = client.get(reverse("plants:list"), {"city": "renn"}).content.decode()
    assert "Ferme Bretonne" in body and "Maison Martin" not in body
    body = client.get(reverse("plants:list"), {"status": "online"}).content.decode()
    assert "Ferme Bretonne" not in body


def test_a_plant_loaded_without_its_status_still_knows_its_next_step(plant):
    fresh = Plant.objects.get(pk=plant.pk)  # no with_status()
    assert fresh.next_step == "datalogger" and fresh.get_status_display() == "Incomplète"


def test_an_existing_customer_is_invited_and_sees_the_plant_only_once_accepted(
    installer, plant, customer, stranger, mailoutbox, django_capture_on_commit_callbacks
):
    check = login(installer).get(reverse("plants:grant_check", args=[plant.pk]), {"email": customer.email})
    assert "sera invité" in text(check) and "déjà" not in text(check)  # nothing about other accounts
    with django_capture_on_commit_callbacks(execute=True):
        login(installer).post(reverse("plants:grants", args=[plant.pk]), {"email": customer.email})
    grant = PlantGrant.objects.get(plant=plant, customer=customer)
    assert grant.accepted_at is None
    assert login(customer).get(reverse("plants:detail", args=[plant.pk])).status_code == 404
    url = reverse("plants:invitation", args=[grant.token])
    assert url in mailoutbox[0].body
    assert login(stranger).get(url).status_code == 404
    login(customer).post(url)
    assert login(customer).get(reverse("plants:detail", args=[plant.pk])).status_code == 200


def test_a_battery_other_than_the_declared_one_is_said_at_the_test_step(installer, company, simulator):
    plant = make_plant(company, name="Grande maison", battery_model=BatteryModel.AURA_25)
    device = simulator.add_v5(awake_inverter(2355550912, "AU0550912", battery_kwh=10))
    try:
        attach_logger(plant, device, simulator)
        body = text(login(installer).post(reverse("plants:commission", args=[plant.pk, "test"])))
        assert "«\u00a0AURA 10KM-BG\u00a0»" in body
        assert "déclarée AURA 25KM-BG" in body
        client = login(installer)
        assert "déclarée" in text(client.get(reverse("plants:detail", args=[plant.pk])))
        inverter = Inverter.objects.get(datalogger__plant=plant)
        client.post(reverse("plants:battery_confirm", args=[plant.pk, inverter.pk]))
        assert "déclarée" not in text(client.get(reverse("plants:detail", args=[plant.pk])))
    finally:
        simulator.v5_devices.pop(device.logger_serial, None)


def test_an_unknown_battery_name_format_raises_no_warning(plant):
    assert plant.battery_mismatch(Inverter(battery_name="LFP-51.2V")) is None
    assert plant.battery_mismatch(Inverter(battery_name="AURA 10KM-BG")) is None  # as declared


def test_granting_another_companys_customer_reveals_neither_id_nor_name_until_accepted(
    installer, plant, stranger, other_company
):
    """Their customer "Gwen Le Goff" of Armor Solaire: to Soleil Bleu's installer, only the e-mail
    they typed, until Gwen accepts."""
    gwen = make_user("gwen", User.Role.CUSTOMER, first_name="Gwen", last_name="Le Goff")
    PlantGrant.objects.create(
        plant=make_plant(other_company, name="Ferme"), customer=gwen, granted_by=stranger, accepted_at=now()
    )
    client = login(installer)
    checks = {
        text(client.get(reverse("plants:grant_check", args=[plant.pk]), {"email": email})).replace(email, "…")
        for email in (gwen.email, stranger.email, "personne@example.fr")
    }
    assert len(checks) == 1  # the same words for a customer, a pro account and nobody
    client.post(reverse("plants:grants", args=[plant.pk]), {"email": gwen.email})
    page = text(client.get(reverse("plants:grants", args=[plant.pk])))
    assert gwen.email in page and "Gwen" not in page and "Le Goff" not in page
    (listed,) = [
        g for g in api_for(installer).get("/api/v1/grants/").json()["results"] if g["plant"] == plant.pk
    ]
    assert listed["customer"] is None and listed["accepted_at"] is None
    grant = PlantGrant.objects.get(plant=plant, customer=gwen)
    login(gwen).post(reverse("plants:invitation", args=[grant.token]))
    assert "Gwen" in text(client.get(reverse("plants:grants", args=[plant.pk])))
