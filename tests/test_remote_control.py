"""Remote control against the simulator over real TCP: validated, recorded, written under the
logger's lock, read back, and worded."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from devices import polling, remote, tasks
from devices.models import SettingChange
from devices.simulator import Behaviour

from .conftest import attach_logger


@pytest.fixture
def inverter(plant, simulator, v5_device, settings):
    settings.DEVICE_TIMEOUT_SECONDS = 1
    settings.DEVICE_RETRIES = 0
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id], force_info=True)
    return logger.inverters.get()


def change(inverter, installer, **new):
    changes = remote.setting_changes_request(inverter=inverter, by=installer, new=new)
    remote.setting_changes_apply(change_ids=[c.pk for c in changes])
    return list(SettingChange.objects.filter(pk__in=[c.pk for c in changes]).order_by("pk"))


def test_mode_charge_limit_and_window_are_written_read_back_and_logged(inverter, installer, v5_device):
    v5_device.remote_control = True
    rows = change(inverter, installer, working_mode=2, charge_limit=50, grid_charge_start="01:30")
    assert [r.outcome for r in rows] == ["confirmed"] * 3
    assert v5_device.settings["working_mode"] == 2 and v5_device.settings["charge_limit"] == 50
    assert v5_device.settings["grid_charge_start"] == "01:30"
    assert rows[0].old_value == 0 and rows[0].new_value == 2
    assert remote.settings_read(inverter=inverter)["working_mode"] == 2


def test_a_change_is_told_in_plain_words(inverter, installer, v5_device):
    installer.first_name, installer.last_name = "Jean", "Dupont"
    installer.save()
    v5_device.remote_control = True
    (row,) = change(inverter, installer, working_mode=2)
    assert row.in_words() == (
        "Jean Dupont de Soleil Bleu a changé mode de fonctionnement de Autoconsommation à Priorité batterie "
        "— confirmé"
    )


@pytest.mark.parametrize(
    "new",
    [
        {"charge_limit": 0},
        {"working_mode": "x"},
        {"grid_standard": 10},
        {"battery_soc": 50},
        {"charge_limit": True},  # JSON true is not 1 %
        {"charge_limit": "50"},
        {"charge_limit": 50.0},
        {"grid_charge_start": 130},
    ],
)
def test_a_bad_value_or_a_setting_not_writable_is_refused_before_any_write(
    inverter, installer, v5_device, new
):
    v5_device.remote_control = True
    with pytest.raises(ValidationError):
        remote.setting_changes_request(inverter=inverter, by=installer, new=new)
    assert v5_device.writes == [] and not SettingChange.objects.exists()


def test_with_remote_control_off_the_refusal_gives_the_guides_instruction(inverter, installer, v5_device):
    (row,) = change(inverter, installer, working_mode=1)
    assert row.outcome == "refused" and "CONTRÔLE À DISTANCE → 2\u00a0: ACTIVER" in str(row.answer)
    assert v5_device.settings["working_mode"] == 0


def test_a_logger_dropping_mid_write_is_not_confirmed_never_a_success(inverter, installer, v5_device):
    v5_device.remote_control = True
    changes = remote.setting_changes_request(inverter=inverter, by=installer, new={"charge_limit": 40})
    v5_device.behaviour = Behaviour.DROP
    remote.setting_changes_apply(change_ids=[changes[0].pk])
    changes[0].refresh_from_db()
    assert changes[0].outcome == "not_confirmed" and "Pas de confirmation" in str(changes[0].answer)


@pytest.mark.django_db(transaction=True)
def test_a_poll_and_a_write_at_the_same_moment_take_turns_on_the_stick(inverter, installer, v5_device):
    v5_device.remote_control = True
    v5_device.latency = 0.1
    logger = inverter.datalogger
    changes = remote.setting_changes_request(inverter=inverter, by=installer, new={"discharge_limit": 70})
    results = {}

    def poll_in_a_thread():
        results["poll"] = polling.poll_loggers([logger.id])
        connection.close()  # this thread's own connection, or the test database cannot be dropped

    poll = threading.Thread(target=poll_in_a_thread)
    poll.start()
    remote.setting_changes_apply(change_ids=[changes[0].pk])
    poll.join()
    changes[0].refresh_from_db()
    (result,) = results["poll"]
    # Each waited for the other's lock (a poll that found the stick busy is "busy", not a miss).
    assert changes[0].outcome == "confirmed"
    assert result.ok or result.outcome == "busy"


def test_too_many_changes_in_ten_minutes_are_refused(inverter, installer, v5_device, settings):
    settings.REMOTE_WRITES_PER_10_MINUTES = 2
    v5_device.remote_control = True
    change(inverter, installer, charge_limit=50, discharge_limit=50)
    with pytest.raises(ValidationError):
        remote.setting_changes_request(inverter=inverter, by=installer, new={"charge_limit": 60})


def test_the_old_value_is_read_from_the_inverter_before_the_write_not_taken_from_the_client(
    inverter, installer, v5_device
):
    v5_device.remote_control = True
    v5_device.settings["charge_limit"] = 35  # changed on the inverter's screen since the page was read
    changes = remote.setting_changes_request(inverter=inverter, by=installer, new={"charge_limit": 60})
    assert changes[0].old_value is None  # nothing known until the task reads it
    remote.setting_changes_apply(change_ids=[changes[0].pk])
    changes[0].refresh_from_db()
    assert (changes[0].old_value, changes[0].new_value, changes[0].outcome) == (35, 60, "confirmed")


def test_an_outcome_is_stored_once_and_read_in_each_readers_language(inverter, installer, v5_device):
    (row,) = change(inverter, installer, working_mode=1)
    with translation.override("en"):
        assert "Remote control may be disabled" in str(row.answer)
    with translation.override("fr"):
        assert "CONTRÔLE À DISTANCE" in str(row.answer)
    assert SettingChange.objects.get().answer.code == "write.refused"  # a code, not a sentence


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_requests_pass_exactly_the_limit(inverter, installer, settings):
    settings.REMOTE_WRITES_PER_10_MINUTES = 10
    start = threading.Barrier(20)
    outcomes = []

    def request():
        start.wait()
        try:
            remote.setting_changes_request(inverter=inverter, by=installer, new={"charge_limit": 60})
            outcomes.append("accepted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("accepted") == 10 and SettingChange.objects.count() == 10


def test_the_write_task_ends_without_an_error_once_the_changes_are_written(inverter, installer, v5_device):
    """The Celery task a worker runs (not only the service): a task ending in an error after the
    write would be logged as failed for every change made."""
    v5_device.remote_control = True
    changes = remote.setting_changes_request(inverter=inverter, by=installer, new={"charge_limit": 40})
    assert tasks.apply_setting_changes([c.pk for c in changes]) == ["confirmed"]
