"""End customers' data rights: a copy of their data, the erasure of their account, and a plant handed
over to a new owner who sees nothing from before unless the installer shares it; each recorded."""

import csv
import io
import re
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import DataExport, SecurityEvent, User
from alarms.models import Alarm
from devices.models import Datalogger, Reading, SettingChange
from energy.models import DailyEnergy
from plants.models import Plant, PlantGrant, PlantPhoto
from plants.services import photo_add, plant_transfer

from .conftest import PASSWORD, login, make_user, text


@pytest.fixture
def history(granted_plant, company, installer):
    """Yesterday's energy, a reading, an alarm and a setting change on the customer's plant."""
    yesterday = timezone.localdate() - timedelta(days=1)
    DailyEnergy.objects.create(plant=granted_plant, company=company, day=yesterday, production_wh=18400)
    logger = Datalogger.objects.create(plant=granted_plant, serial_number="2401000055", host="127.0.0.1")
    inverter = logger.inverters.create(serial_number="KS0055")
    noon = datetime.combine(yesterday, datetime.min.time(), tzinfo=granted_plant.tzinfo) + timedelta(hours=12)
    Reading.objects.create(inverter=inverter, slot=noon, pv_power=4200, pv_energy_today=Decimal("9.5"))
    Alarm.objects.create(
        plant=granted_plant, datalogger=logger, inverter=inverter, code_id="F13", started_at=noon
    )
    SettingChange.objects.create(inverter=inverter, plant=granted_plant, by=installer, key="working_mode",
                                 old_value=0, new_value=2, created_at=noon)  # fmt: skip
    return yesterday


def _csv(zip_file, name):
    return list(csv.reader(io.StringIO(zip_file.read(name).decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def copy_of(django_capture_on_commit_callbacks, mailoutbox, settings, tmp_path):
    """A customer's copy of their data as they get it: asked for, built by the task, e-mailed as a
    link they open logged in."""
    settings.MEDIA_ROOT = tmp_path

    def copy(user):
        client = login(user)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(reverse("my_data")).status_code == 302
        link = re.search(r"https?://\S+(/preferences/my-data/\S+\.zip)", mailoutbox[-1].body).group(1)
        response = client.get(link)
        assert response["Content-Type"] == "application/zip"
        return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))), link

    return copy


def test_a_customer_downloads_all_their_data(customer, granted_plant, history, installer, copy_of):
    archive, _link = copy_of(customer)
    assert _csv(archive, "account.csv")[1][3] == customer.email
    assert _csv(archive, "plants.csv")[1][0] == granted_plant.name
    energy = _csv(archive, "maison-martin/energy.csv")
    assert energy[1][:2] == [history.isoformat(), "18400"]
    # Their pages show no serial number: neither does their copy.
    assert _csv(archive, "maison-martin/readings.csv")[1][1:4] == ["Onduleur 1", "1", "4200"]
    assert _csv(archive, "maison-martin/alarms.csv")[1][0] == "F13"
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.DATA_EXPORTED)
    assert event.by == customer
    assert login(installer).get(reverse("my_data")).status_code == 403  # a customer's right


def test_a_customer_erases_their_account_and_the_plant_keeps_its_history(customer, granted_plant, history):
    client = login(customer)
    phone = login(customer)  # the same account, logged in on another device
    response = client.post(reverse("erase_account"), {"password": "wrong"})
    assert response.status_code == 200 and "pas votre mot de passe" in text(response)
    assert User.objects.get(pk=customer.pk).is_active

    response = client.post(reverse("erase_account"), {"password": PASSWORD})
    assert response.url == reverse("login")
    erased = User.objects.get(pk=customer.pk)
    assert (erased.username, erased.email, erased.first_name, erased.is_active) == (
        f"erased-{customer.pk}",
        "",
        "",
        False,
    )
    assert not PlantGrant.objects.filter(customer=customer).exists()
    assert Reading.objects.filter(inverter__datalogger__plant=granted_plant).count() == 1
    assert client.get(reverse("plants:list")).status_code == 302  # logged out for good
    assert phone.get(reverse("plants:list")).status_code == 302  # and on every other device
    assert not login_form_accepts("client", PASSWORD)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ACCOUNT_ERASED, by=customer).exists()


def login_form_accepts(username, password):
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


@pytest.mark.parametrize("shared", [False, True])
def test_a_plant_handed_over_hides_the_past_from_the_new_owner_unless_shared(
    customer, granted_plant, history, installer, shared
):
    response = login(installer).post(
        reverse("plants:transfer", args=[granted_plant.pk]),
        {"email": "nouveau@exemple.fr", "password": "Nouveau-Proprio-2026",
         **({"share_history": "on"} if shared else {})},
    )  # fmt: skip
    assert response.url == reverse("plants:grants", args=[granted_plant.pk])
    assert login(customer).get(reverse("plants:detail", args=[granted_plant.pk])).status_code == 404

    owner = login(User.objects.get(email="nouveau@exemple.fr"))
    assert owner.get(reverse("plants:detail", args=[granted_plant.pk])).status_code == 200
    month = history.strftime("%Y-%m")
    bars = owner.get(f"/api/v1/plants/{granted_plant.pk}/energy/?period=month&date={month}").json()["bars"]
    assert (history.isoformat() in [b["label"] for b in bars]) is shared
    curves = owner.get(f"/api/v1/plants/{granted_plant.pk}/power/?date={history}").json()
    assert (4200 in curves["pv_power"]) is shared
    readings = owner.get(f"/plants/{granted_plant.pk}/readings.csv?start={history}&end={history}")
    assert (b"4200" in b"".join(readings.streaming_content)) is shared
    log = text(owner.get(reverse("plants:settings_log", args=[granted_plant.pk])))
    assert ("Priorité batterie" in log) is shared
    # The installer keeps seeing everything.
    bars = login(installer).get(f"/api/v1/plants/{granted_plant.pk}/energy/?period=month&date={month}").json()
    assert history.isoformat() in [b["label"] for b in bars["bars"]]
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PLANT_TRANSFERRED)
    assert event.by == installer and str(granted_plant.pk) in event.detail
    assert Plant.objects.get(pk=granted_plant.pk).n_grants == 1


def test_a_customer_with_no_plant_left_erases_their_account(customer, granted_plant):
    """The usual case after a hand-over: the grant is gone, the account stays until erased."""
    PlantGrant.objects.filter(customer=customer).delete()
    response = login(customer).post(reverse("erase_account"), {"password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("login")
    erased = User.objects.get(pk=customer.pk)
    assert (erased.email, erased.is_active) == ("", False)


def test_erasure_purges_the_persons_login_traces(customer, granted_plant):
    login_form_accepts(customer.username, PASSWORD)  # a success: axes' access log
    Client().post(reverse("login"), {"username": customer.username, "password": "wrong"})
    Client().post(reverse("login"), {"username": customer.email, "password": "wrong"})
    assert AccessAttempt.objects.exists() and AccessLog.objects.exists()
    login(customer).post(reverse("erase_account"), {"password": PASSWORD})
    names = {customer.username, customer.email}
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        assert not model.objects.filter(username__in=names).exists(), model.__name__
    traces = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert not any(customer.email in e.detail or e.subject in names or e.addresses for e in traces)


def test_the_copy_has_the_settings_log_the_photos_and_the_hand_over(
    customer, granted_plant, history, installer, copy_of
):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(buffer, "PNG")
    photo = photo_add(
        plant=granted_plant, by=installer, upload=SimpleUploadedFile("toit.png", buffer.getvalue())
    )
    PlantPhoto.objects.filter(pk=photo.pk).update(caption="Le toit")
    plant_transfer(plant=granted_plant, by=installer, email=customer.email, share_history=False)
    PlantGrant.objects.filter(customer=customer).update(accepted_at=timezone.now())
    PlantPhoto.objects.filter(pk=photo.pk).update(created_at=timezone.now() + timedelta(seconds=1))

    archive, _link = copy_of(customer)
    (row,) = _csv(archive, "maison-martin/photos.csv")[1:]
    assert row[1] == "Le toit" and archive.read(row[0])[:2] == b"\xff\xd8"  # the JPEG itself
    (handover,) = _csv(archive, "handovers.csv")[1:]
    assert f"plant #{granted_plant.pk}" in handover[1] and "history from" in handover[1]
    assert len(_csv(archive, "maison-martin/settings_log.csv")) == 1  # the change was before the hand-over


def test_the_copy_has_the_settings_log_the_customer_sees(customer, granted_plant, history, copy_of):
    archive, _link = copy_of(customer)
    log = _csv(archive, "maison-martin/settings_log.csv")
    assert "Priorité batterie" in log[1][1] and log[1][3] == "2"


def test_a_copy_is_only_its_owners_and_only_for_a_while(customer, granted_plant, history, copy_of, stranger):
    _archive, link = copy_of(customer)
    other = make_user("autre", User.Role.CUSTOMER)
    assert login(other).get(link).status_code == 404
    assert login(stranger).get(link).status_code == 403
    DataExport.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert login(customer).get(link).status_code == 404
    assert DataExport.purge() == 1 and not DataExport.objects.exists()


def test_erasure_takes_the_copies_with_it(customer, granted_plant, history, copy_of):
    copy_of(customer)
    login(customer).post(reverse("erase_account"), {"password": PASSWORD})
    assert not DataExport.objects.exists()
