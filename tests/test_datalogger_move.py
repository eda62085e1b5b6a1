"""Moving a stick between plants of the company (`datalogger_move`)."""

from django.urls import reverse

from devices.models import Datalogger

from .conftest import login, make_plant


def test_moving_a_logger_between_plants_of_the_company(installer, plant, company):
    logger = Datalogger.objects.create(plant=plant, serial_number="2355553510")
    other = make_plant(company, name="Chez Paul")
    login(installer).post(
        reverse("plants:datalogger_move", args=[plant.pk, logger.pk]), {"to_plant": other.pk}
    )
    logger.refresh_from_db()
    assert logger.plant == other
