"""The checklist page (the stepper's last step): ticks with who / when and photos, the site's
figures, finishing only when nothing is missing, and who may read or change it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alarms.models import Alarm
from commissioning import tasks
from commissioning.models import Site, Tick
from monitoring import fleet
from plants.models import Plant

from .commissioning_steps import first_day_done, jpeg, ready_but
from .conftest import login, make_plant, text
from .factories import DataloggerFactory

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01


def url(plant, name="checklist", *args):
    if name == "checklist":
        return reverse("plants:commission", args=[plant.pk, "finish"])
    return reverse(f"plants:{name}", args=[plant.pk, *args])


def test_the_page_lists_the_guides_items_for_the_plants_type(installer, company):
    plant = make_plant(company, system_type="ac_backup")
    body = text(login(installer).get(url(plant)))
    assert "Coffret backup" in body and "Sortie de secours (EPS) activée" in body
    assert "Couplage AC activé" in body and "Distance entre la batterie et le disjoncteur" in body
    assert "Sectionneur PV" not in body  # the panels are not on the AURA


def test_a_tick_records_who_and_when_and_can_be_undone(installer, plant):
    client = login(installer)
    client.post(url(plant, "checklist_tick", "stop_order_explained"), {"reason": ""})
    tick = Tick.objects.get(plant=plant)
    assert tick.item == "stop_order_explained" and tick.by == installer
    assert installer.username in text(client.get(url(plant))) or installer.get_full_name() in text(
        client.get(url(plant))
    )
    client.post(url(plant, "checklist_untick", "stop_order_explained"))
    assert not Tick.objects.exists()


def test_a_screen_item_needs_a_photo_of_the_screen_or_a_reason(installer, plant):
    client = login(installer)
    response = client.post(url(plant, "checklist_tick", "screen_remote_control"), {"reason": ""}, follow=True)
    assert "photo de l’écran" in text(response) or "photo de l'écran" in text(response)
    assert not Tick.objects.exists()
    client.post(url(plant, "checklist_tick", "screen_remote_control"), {"photo": jpeg()})
    tick = Tick.objects.get()
    assert tick.photo is not None and tick.photo.plant == plant
    assert reverse("plants:photo", args=[plant.pk, tick.photo.pk, "thumb"]) in text(client.get(url(plant)))


@pytest.mark.parametrize("item", ["auto_ct_direction", "breaker_distance", "no_such_item", "ct_wiring"])
def test_an_automatic_an_input_or_an_unknown_item_cannot_be_ticked(installer, plant, item):
    response = login(installer).post(url(plant, "checklist_tick", item), {"reason": "fait"}, follow=True)
    assert "ne peut pas être coché" in text(response)
    assert not Tick.objects.exists()


def test_a_hostile_photo_is_refused_with_its_reason_and_no_tick(installer, plant):
    from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: PLC0415

    bogus = SimpleUploadedFile("x.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    response = login(installer).post(
        url(plant, "checklist_tick", "stop_order_explained"), {"photo": bogus}, follow=True
    )
    assert response.status_code == 200 and "photo" in text(response).lower()
    assert not Tick.objects.exists()


def test_the_distance_chooses_the_clamp_or_the_meter(installer, plant):
    client = login(installer)
    client.post(url(plant, "checklist_site"), {"breaker_distance_m": "12,5", "grid_standard_reason": ""})
    body = text(client.get(url(plant)))
    assert "Compteur Yada" in body and "bornes 5 et 6" in body
    response = client.post(
        url(plant, "checklist_site"), {"breaker_distance_m": "1e9", "grid_standard_reason": ""}, follow=True
    )
    assert response.status_code == 200 and "Compteur Yada" in text(response)
    assert "pas plus de 5 chiffres" in text(response)


def test_a_plant_missing_anything_is_not_commissioned_and_the_missing_item_is_named_everywhere(
    installer, plant, simulator, v5_device, customer
):
    ready_but(plant, v5_device, simulator, installer=installer, customer=customer)
    Tick.objects.filter(item="restart_3_minutes").delete()
    client = login(installer)
    response = client.post(url(plant, "commissioning_finish"), follow=True)
    assert "Onduleur éteint 3 minutes" in text(response)
    assert Plant.objects.get(pk=plant.pk).commissioning_completed_at is None
    assert "Onduleur éteint 3 minutes" in text(client.get(reverse("plants:detail", args=[plant.pk])))
    home = text(client.get(reverse("home")))
    assert "1 centrale en cours de mise en service" in home and "Onduleur éteint 3 minutes" in home


@pytest.mark.parametrize("leave_out", ["customer", "clamp", "first_day"])
def test_each_missing_condition_keeps_the_plant_uncommissioned(
    installer, plant, simulator, v5_device, customer, leave_out
):
    ready_but(plant, v5_device, simulator, installer=installer, customer=customer, leave_out=[leave_out])
    login(installer).post(url(plant, "commissioning_finish"))
    assert Plant.objects.get(pk=plant.pk).commissioning_completed_at is None


def test_with_everything_done_the_plant_is_commissioned_and_its_report_issued(
    installer, plant, simulator, v5_device, customer, django_capture_on_commit_callbacks
):
    ready_but(plant, v5_device, simulator, installer=installer, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(installer).post(url(plant, "commissioning_finish"))
    assert response.url == reverse("plants:detail", args=[plant.pk])
    plant.refresh_from_db()
    assert plant.commissioning_completed_at is not None
    report = plant.handover_reports.get()
    assert report.sha256 in text(login(installer).get(reverse("plants:detail", args=[plant.pk])))
    # The customer sees it on the dashboard too.
    assert report.sha256 in text(login(customer).get(reverse("plants:detail", args=[plant.pk])))


def test_another_companys_installer_can_neither_read_nor_tick(stranger, plant):
    client = login(stranger)
    assert client.get(url(plant)).status_code == 404
    assert client.post(url(plant, "checklist_tick", "stop_order_explained")).status_code == 404
    assert client.post(url(plant, "commissioning_finish")).status_code == 404
    assert client.post(url(plant, "checklist_apply")).status_code == 404
    assert not Tick.objects.exists()


def test_the_plants_customer_can_neither_read_nor_tick_the_checklist(customer, granted_plant):
    client = login(customer)
    assert client.get(url(granted_plant)).status_code == 404
    for name, args in [
        ("checklist_tick", ["stop_order_explained"]),
        ("checklist_site", []),
        ("commissioning_finish", []),
        ("report_issue", []),
    ]:
        assert client.post(url(granted_plant, name, *args)).status_code in (403, 404)
    assert not Tick.objects.exists()


def test_the_distributor_reads_the_checklist_without_changing_it(admin_user, plant):
    client = login(admin_user)
    body = text(client.get(url(plant)))
    assert "Arrêt expliqué au client" in body and "Cocher" not in body
    assert client.post(url(plant, "checklist_tick", "stop_order_explained")).status_code in (403, 404)


def test_finishing_on_site_while_only_data_is_awaited_finishes_by_itself_once_it_comes(
    installer, plant, simulator, v5_device, customer, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    _logger, inverter = ready_but(
        plant, v5_device, simulator, installer=installer, customer=customer, leave_out=["first_day"]
    )
    response = login(installer).post(url(plant, "commissioning_finish"), follow=True)
    assert "termine lui-même la mise en service" in text(response)
    assert Plant.objects.get(pk=plant.pk).commissioning_completed_at is None
    tasks.finish_when_ready.delay()
    assert Plant.objects.get(pk=plant.pk).commissioning_completed_at is None  # still no full day
    first_day_done(inverter)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.finish_when_ready.delay()
    plant.refresh_from_db()
    assert plant.commissioning_completed_at is not None
    assert plant.handover_reports.get().created_by == installer
    tasks.finish_when_ready.delay()  # run again: nothing more
    assert plant.handover_reports.count() == 1


def test_finishing_with_something_to_do_on_site_is_refused_not_deferred(
    installer, plant, simulator, v5_device, customer
):
    ready_but(plant, v5_device, simulator, installer=installer, customer=customer, leave_out=["first_day"])
    Tick.objects.filter(item="stop_order_explained").delete()
    response = login(installer).post(url(plant, "commissioning_finish"), follow=True)
    assert "Pas encore mise en service" in text(response) and "Arrêt expliqué au client" in text(response)
    assert not Site.objects.filter(plant=plant, finish_requested_at__isnull=False).exists()


def test_the_hotline_is_the_distributors_setting_wherever_the_portal_says_to_call_it(
    installer, plant, settings
):
    settings.HOTLINE = {
        "name": "Hotline Test",
        "phone": "+33 4 00 00 00 00",
        "email": "",
        "hours": "9 h – 12 h",
    }
    logger = DataloggerFactory(plant=plant)
    alarm = Alarm.objects.create(plant=plant, datalogger=logger, code_id="F13", started_at=timezone.now())
    client = login(installer)
    for page in (
        url(plant),  # failed checks
        reverse("alarms:detail", args=[alarm.pk]),
        reverse("alarms:stick_leds") + "?net=off&com=off&ready=off",
        reverse("alarms:catalogue"),
    ):
        body = text(client.get(page))
        assert "Hotline Test" in body and 'href="tel:+33 4 00 00 00 00"' in body and "9 h – 12 h" in body, (
            page
        )


def test_the_fleet_homes_commissioning_list_costs_the_same_for_one_plant_or_five(installer, company):
    client = login(installer)
    make_plant(company, name="Une")
    client.get(reverse("home"))  # warm the session and the fleet figures
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("home"))
    for n in range(4):
        DataloggerFactory(plant=make_plant(company, name=f"Autre {n}"))
    with CaptureQueriesContext(connection) as five:
        body = text(client.get(reverse("home")))
    assert "5 centrales en cours de mise en service" in body
    assert len(five) == len(one)


def test_a_fleet_with_more_plants_being_commissioned_than_the_cap_says_more_than(
    installer, company, monkeypatch
):
    monkeypatch.setattr(fleet, "COMMISSIONING_COUNT_CAP", 2)
    for n in range(3):
        make_plant(company, name=f"Chantier {n}")
    assert "Plus de 2 centrales en cours de mise en service" in text(login(installer).get(reverse("home")))
