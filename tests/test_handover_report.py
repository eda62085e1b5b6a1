"""The hand-over report: a PDF that opens, holds the plant's serials, settings and checklist, keeps
its checksum, and is served only to who may see it (the customer once the plant is commissioned)."""

import hashlib
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from commissioning import services
from plants.models import PlantGrant
from plants.services import plant_transfer

from .commissioning_steps import ready_but
from .conftest import api_for, login, make_plant, make_user, text

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _quick(settings, tmp_path):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def commissioned(plant, simulator, v5_device, installer, customer, django_capture_on_commit_callbacks):
    logger, inverter = ready_but(plant, v5_device, simulator, installer=installer, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        login(installer).post(reverse("plants:commissioning_finish", args=[plant.pk]))
    plant.refresh_from_db()
    return plant, logger, inverter


def pdf_text(path):
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_report_opens_and_holds_the_serials_settings_and_checklist(commissioned, tmp_path):
    plant, logger, inverter = commissioned
    report = plant.handover_reports.get()
    subprocess.run(["pdftoppm", "-png", "-r", "40", report.pdf.path, str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png")), "pdftoppm rendered no page"
    words = pdf_text(report.pdf.path)
    assert logger.serial_number in words and inverter.serial_number in words and "BluE-S 6000D" in words
    assert "EN 50549" in words and "Autoconsommation" in words
    assert "Arrêt expliqué au client" in words and "paul" in words.lower()
    assert hashlib.sha256(report.pdf.read()).hexdigest() == report.sha256


def test_issuing_again_keeps_each_report_with_its_own_checksum(commissioned, installer):
    plant, _logger, _inverter = commissioned
    again = services.report_make(plant=plant, by=installer)
    assert plant.handover_reports.count() == 2 and len(again.sha256) == 64


def test_the_customer_downloads_the_report_of_a_commissioned_plant(commissioned, customer):
    plant, _logger, _inverter = commissioned
    report = plant.handover_reports.get()
    response = login(customer).get(reverse("plants:report", args=[plant.pk, report.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == report.sha256


def test_the_customer_gets_no_report_before_the_plant_is_commissioned(granted_plant, installer, customer):
    report = services.report_make(plant=granted_plant, by=installer)  # a draft an installer issued
    assert (
        login(installer).get(reverse("plants:report", args=[granted_plant.pk, report.pk])).status_code == 200
    )
    assert (
        login(customer).get(reverse("plants:report", args=[granted_plant.pk, report.pk])).status_code == 404
    )


def test_nobody_else_gets_a_report(commissioned, stranger, other_company):
    plant, _logger, _inverter = commissioned
    report = plant.handover_reports.get()
    someone = make_user("someone", "customer")
    for user in (stranger, someone):
        assert login(user).get(reverse("plants:report", args=[plant.pk, report.pk])).status_code == 404
    # Not through another plant's address either.
    theirs = make_plant(other_company, name="Chez eux")
    assert login(stranger).get(reverse("plants:report", args=[theirs.pk, report.pk])).status_code == 404


def test_html_in_the_plants_name_is_printed_as_text_not_fetched(granted_plant, installer):
    granted_plant.name = 'Maison <img src="file:///etc/passwd"> Dupont'
    granted_plant.save()
    report = services.report_make(plant=granted_plant, by=installer)
    assert '<img src="file:///etc/passwd">' in pdf_text(report.pdf.path).replace("\n", " ")


def test_the_plant_page_shows_the_checksum_to_compare_a_copy_with(commissioned, installer):
    plant, _logger, _inverter = commissioned
    assert plant.handover_reports.get().sha256 in text(
        login(installer).get(reverse("plants:detail", args=[plant.pk]))
    )


def test_after_the_plant_changes_owner_the_new_customer_does_not_get_the_old_report(
    commissioned, installer, customer
):
    plant, _logger, _inverter = commissioned
    old = plant.handover_reports.get()
    plant_transfer(plant=plant, by=installer, email="nouveau@example.fr", password="Un-mot-de-passe-9")
    newcomer = User.objects.get(email="nouveau@example.fr")
    PlantGrant.objects.filter(customer=newcomer).update(accepted_at=timezone.now())
    client = login(newcomer)
    assert client.get(reverse("plants:report", args=[plant.pk, old.pk])).status_code == 404
    assert old.sha256 not in text(client.get(reverse("plants:detail", args=[plant.pk])))
    assert api_for(newcomer).get(f"/api/v1/commissioning/{plant.pk}/reports/").json() == []
    # A report issued for the new owner is theirs.
    new = services.report_make(plant=plant, by=installer)
    assert client.get(reverse("plants:report", args=[plant.pk, new.pk])).status_code == 200
