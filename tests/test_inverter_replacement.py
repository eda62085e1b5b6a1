"""An inverter replaced behind its logger: shown on the plant, decided by an installer of its company
(once), and a rejected replacement's readings leave the plant's figures."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alarms.models import Alarm
from devices import polling
from devices.models import Datalogger, Inverter, Reading

from .conftest import attach_logger, login, text


@pytest.fixture
def replacement(granted_plant):
    logger = Datalogger.objects.create(plant=granted_plant, serial_number="2401000088", host="127.0.0.1")
    now = timezone.now()
    old = Inverter.objects.create(datalogger=logger, serial_number="KSOLD00001", ended_at=now)
    new = Inverter.objects.create(
        datalogger=logger, serial_number="KSNEW00001", replaces=old, first_seen_at=now
    )
    Alarm.objects.create(plant=granted_plant, datalogger=logger, inverter=new, code_id="SWP", started_at=now)
    slot = datetime(2026, 6, 1, 10, tzinfo=UTC)
    Reading.objects.create(inverter=old, slot=slot, pv_power=1000)
    Reading.objects.create(inverter=new, slot=slot + timedelta(minutes=5), pv_power=4000)
    return new


def test_the_plant_says_the_inverter_was_replaced_and_asks_its_installers(replacement, installer, customer):
    url = reverse("plants:detail", args=[replacement.datalogger.plant_id])
    page = text(login(installer).get(url))
    assert "Onduleur remplacé le" in page and "KSNEW00001" in page and "Je ne l'ai pas remplacé" in page
    page = text(login(customer).get(url))
    assert "Onduleur remplacé le" in page and "Je ne l'ai pas remplacé" not in page


@pytest.mark.parametrize("outsider", ["customer", "stranger"])
def test_only_an_installer_of_the_company_decides(replacement, outsider, request):
    response = login(request.getfixturevalue(outsider)).post(
        reverse("devices:replacement", args=[replacement.pk, "reject"])
    )
    assert response.status_code in (403, 404)
    replacement.refresh_from_db()
    assert replacement.replacement_pending


def test_a_rejected_replacement_leaves_the_plants_figures_once(replacement, installer):
    client = login(installer)
    url = reverse("devices:replacement", args=[replacement.pk, "reject"])
    assert client.post(url).status_code == 302
    replacement.refresh_from_db()
    assert replacement.rejected_at is not None and not replacement.replacement_pending
    plant = replacement.datalogger.plant
    assert list(Reading.objects.of_plant(plant).values_list("pv_power", flat=True)) == [1000]
    assert not Alarm.objects.filter(inverter=replacement, cleared_at__isnull=True).exists()
    client.post(reverse("devices:replacement", args=[replacement.pk, "confirm"]))  # too late: decided
    replacement.refresh_from_db()
    assert replacement.replacement_confirmed_at is None


def test_a_confirmed_replacement_is_the_plants_inverter(replacement, installer):
    login(installer).post(reverse("devices:replacement", args=[replacement.pk, "confirm"]))
    replacement.refresh_from_db()
    assert replacement.replacement_confirmed_at is not None and replacement.counted
    assert sorted(
        Reading.objects.of_plant(replacement.datalogger.plant).values_list("pv_power", flat=True)
    ) == [
        1000,
        4000,
    ]


def test_an_unknown_decision_is_a_404(replacement, installer):
    assert (
        login(installer).post(reverse("devices:replacement", args=[replacement.pk, "maybe"])).status_code
        == 404
    )


def test_an_inverter_put_back_behind_its_logger_is_its_old_row_again(plant, simulator, v5_device, settings):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id], force_info=True)
    first = logger.inverters.get()
    for serial in ("KSLOAN0001", first.serial_number):  # a loan inverter, then the repaired one
        v5_device.inverter_serial = serial
        polling.poll_loggers([logger.id])
        polling.poll_loggers([logger.id])
    first.refresh_from_db()
    assert first.ended_at is None and logger.inverters.count() == 2
    assert logger.inverters.get(serial_number="KSLOAN0001").ended_at is not None
