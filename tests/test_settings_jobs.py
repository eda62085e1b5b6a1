"""Settings for many plants at once: over 50 simulated inverters, 5 with remote control off on their
screen, the dry run reads all and writes nothing; the run confirms 45 and reports 5 refused with the
guide's instruction; a cancel stops what is not begun; a job is its company's only."""

import pytest
from django.urls import reverse

from accounts.models import User
from devices import bulk, polling, tasks
from devices.models import SettingChange, SettingsJob, SettingsJobTarget
from plants.models import Plant

from .conftest import attach_logger, awake_inverter, login, make_plant, make_user, text

FLEET, REMOTE_OFF = 50, 5
State = SettingsJobTarget.State


@pytest.fixture
def fleet(company, simulator, settings):
    settings.DEVICE_TIMEOUT_SECONDS = 2
    settings.DEVICE_RETRIES = 0
    settings.DEVICE_REQUEST_GAP_SECONDS = 0
    devices, loggers = [], []
    for i in range(FLEET):
        device = simulator.add_v5(awake_inverter(2366000000 + i, f"BULK{i:05d}"))
        device.remote_control = i >= REMOTE_OFF
        plant = make_plant(company, name=f"Centrale {i:02d}")
        loggers.append(attach_logger(plant, device, simulator))
        devices.append(device)
    polling.poll_loggers([logger.pk for logger in loggers], force_info=True)
    yield devices
    for device in devices:
        simulator.v5_devices.pop(device.logger_serial, None)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """The tasks a view queues after its commit, run as they would be (Celery eager)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def dry_run(client, plants, on_commit, **preset):
    data = {"plants": [plant.pk for plant in plants], **preset}
    with on_commit():
        response = client.post(reverse("devices:settings_job_new"), data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return SettingsJob.objects.latest("created_at")


def states(job):
    return sorted(job.targets.values_list("state", flat=True))


def test_fifty_inverters_five_refusing_dry_run_then_run(fleet, installer, company, on_commit):
    client = login(installer)
    plants = Plant.objects.filter(company=company)
    job = dry_run(client, plants, on_commit, charge_limit="60", grid_charge_start="01:30")
    job.refresh_from_db()
    # The dry run read every inverter and wrote nothing.
    assert job.status == "ready" and states(job) == ["read"] * FLEET
    assert sum(len(device.writes) for device in fleet) == 0 and not SettingChange.objects.exists()
    target = job.targets.get(inverter__serial_number="BULK00007")
    assert target.current == {"charge_limit": 100, "grid_charge_start": "02:00"}
    page = text(client.get(reverse("devices:settings_job", args=[job.pk])))
    assert "100\u00a0% → 60\u00a0%" in page and "Exécuter : écrire les onduleurs" in page

    with on_commit():
        client.post(reverse("devices:settings_job_run", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done"
    assert states(job) == ["confirmed"] * (FLEET - REMOTE_OFF) + ["refused"] * REMOTE_OFF
    assert all(d.settings["charge_limit"] == 60 for d in fleet[REMOTE_OFF:])
    assert all(d.settings["charge_limit"] == 100 for d in fleet[:REMOTE_OFF])
    # Each write is its inverter's own audited change, read back.
    assert SettingChange.objects.filter(outcome="confirmed").count() == 2 * (FLEET - REMOTE_OFF)
    refused = job.targets.filter(state=State.REFUSED).first()
    page = text(client.get(reverse("devices:settings_job", args=[job.pk])))
    assert str(refused.answer) in page
    assert "CONTRÔLE À DISTANCE → 2\u00a0: ACTIVER" in page and ">45</span> confirmé" in page
    assert 'id="job-table">' in page  # done: the page stops asking for progress


def test_a_value_already_set_is_not_written(fleet, installer, company, on_commit):
    plants = Plant.objects.filter(company=company)[:3]
    job = dry_run(login(installer), plants, on_commit, charge_limit="100")
    assert states(job) == ["unchanged"] * 3
    assert (
        bulk.settings_job_run(job=job, by=installer) == []
        and SettingsJob.objects.get(pk=job.pk).status == "done"
    )


def test_a_cancel_stops_the_inverters_not_begun(fleet, installer, company, on_commit):
    client = login(installer)
    job = dry_run(client, Plant.objects.filter(company=company)[:10], on_commit, charge_limit="70")
    ids = bulk.settings_job_run(job=job, by=installer)  # started; the first inverter written, then a cancel
    tasks.write_settings_job_target(ids[0])
    client.post(reverse("devices:settings_job_cancel", args=[job.pk]))
    for target_id in ids:  # the tasks still queued find the job cancelled
        tasks.write_settings_job_target(target_id)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert states(job).count("cancelled") == 9
    assert SettingChange.objects.count() == 1


def test_a_target_written_twice_is_written_once(fleet, installer, company, on_commit):
    job = dry_run(
        login(installer),
        Plant.objects.filter(company=company)[REMOTE_OFF : REMOTE_OFF + 1],
        on_commit,
        charge_limit="55",
    )
    (target_id,) = bulk.settings_job_run(job=job, by=installer)
    assert tasks.write_settings_job_target(target_id) == "confirmed"
    assert tasks.write_settings_job_target(target_id) is None
    assert SettingChange.objects.count() == 1


def test_the_rate_limit_is_kept_and_said(fleet, installer, company, settings, on_commit):
    settings.REMOTE_WRITES_PER_10_MINUTES = 0
    job = dry_run(
        login(installer),
        Plant.objects.filter(company=company)[REMOTE_OFF : REMOTE_OFF + 2],
        on_commit,
        charge_limit="55",
    )
    for target_id in bulk.settings_job_run(job=job, by=installer):
        tasks.write_settings_job_target(target_id)
    assert states(job) == ["refused", "refused"] and not SettingChange.objects.exists()
    assert "Trop de changements sur cet onduleur" in str(job.targets.first().answer)


@pytest.mark.parametrize(
    "preset, message",
    [
        ({}, "Choisissez au moins un réglage à changer."),
        ({"charge_limit": "150"}, "Assurez-vous que cette valeur est inférieure ou égale à 100."),
    ],
)
def test_a_wrong_preset_is_refused_before_anything_is_stored(plant, installer, preset, message):
    response = login(installer).post(reverse("devices:settings_job_new"), {"plants": [plant.pk], **preset})
    assert response.status_code == 400 and message in text(response)
    assert not SettingsJob.objects.exists()


def test_only_the_companys_changeable_plants_are_offered_and_taken(plant, installer, stranger, other_company):
    theirs = make_plant(other_company, name="Chez les autres")
    client = login(installer)
    page = text(client.get(reverse("devices:settings_job_new")))
    assert plant.name in page and theirs.name not in page
    response = client.post(reverse("devices:settings_job_new"), {"plants": [theirs.pk], "charge_limit": "50"})
    assert response.status_code == 400 and not SettingsJob.objects.exists()


def test_a_job_is_its_author_and_company_administrators_only(
    plant, installer, colleague, stranger, customer, company
):
    job = SettingsJob.objects.create(company=company, by=colleague, preset={"charge_limit": 50})
    url = reverse("devices:settings_job", args=[job.pk])
    assert 'hx-trigger="every 2s"' in text(login(colleague).get(url))  # the dry run under way
    technician = make_user("tech", User.Role.INSTALLER, company, company_role="technician")
    viewer = make_user("vue", User.Role.INSTALLER, company, company_role="viewer")
    assert login(colleague).get(url).status_code == 200
    assert login(installer).get(url).status_code == 200  # the company's administrator
    assert login(technician).get(url).status_code == 404
    assert login(stranger).get(url).status_code == 404
    assert login(customer).get(url).status_code == 404
    assert login(viewer).post(reverse("devices:settings_job_new"), {"plants": [plant.pk]}).status_code == 403
    assert login(stranger).post(reverse("devices:settings_job_cancel", args=[job.pk])).status_code == 404
    assert SettingsJob.objects.get(pk=job.pk).status == "reading"


def test_a_fleet_larger_than_a_job_is_narrowed_by_the_filter_first(company, installer, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_PLANTS", 2)
    for name in ("Alpha", "Bravo", "Charlie"):
        make_plant(company, name=name)
    client = login(installer)
    page = text(client.get(reverse("devices:settings_job_new")))
    assert "Trop de centrales pour une tâche" in page and 'name="plants"' not in page
    page = text(client.get(reverse("devices:settings_job_new"), {"q": "Bravo"}))
    assert page.count('name="plants"') == 1 and "Bravo" in page and "Alpha" not in page
