"""Two installers at once: one tick per item, one commissioning stamp, one report."""

import threading

import pytest
from django.db import connection

from commissioning import services
from commissioning.models import Tick
from plants.models import Plant

from .commissioning_steps import ready_but
from .conftest import make_user

pytestmark = pytest.mark.integration


def at_once(*calls):
    """Run the calls in threads released together; each thread closes its own connection."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as e:  # collected: the test asserts there was none
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_installers_ticking_the_same_item_at_once_leave_one_tick(plant, installer, company):
    colleague = make_user("marie", "installer", company)
    at_once(
        *(
            (lambda by=by: services.tick_record(plant=plant, item="stop_order_explained", by=by))
            for by in (installer, colleague) * 3
        )
    )
    assert Tick.objects.filter(plant=plant, item="stop_order_explained").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_finishes_at_once_stamp_the_plant_once(
    plant, simulator, v5_device, installer, customer, settings
):
    settings.DEVICE_REQUEST_GAP_SECONDS = 0.01
    ready_but(plant, v5_device, simulator, installer=installer, customer=customer)
    results = at_once(
        *(lambda: services.commissioning_finish(plant=Plant.objects.get(pk=plant.pk)) for _ in range(4))
    )
    assert [done for _missing, done in results].count(True) == 1
    assert all(missing == [] for missing, _done in results)
