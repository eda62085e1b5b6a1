"""Factories (factory_boy) for the things most tests need, built the way the portal builds them:
a plant through `plant_create` (its model's clean() runs), a logger through `datalogger_attach` (SN
checks, the plant's status refreshed). An inverter is what a poll identifies: it is created as a
poll would store it, and its plant is told (plants_changed) as a poll would tell it.

    inverter = InverterFactory(datalogger__plant=plant, status=DeviceStatus.ONLINE)
"""

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Company
from alarms.models import Alarm
from devices.models import Datalogger, Inverter, Reach, Reading
from devices.services import datalogger_attach
from integrations.services import api_token_create
from plants.models import BatteryModel, Plant, SystemType
from plants.services import plant_create
from plants.signals import plants_changed


class CompanyFactory(DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Installateur {n}")
    address = "1 rue A"
    mobile_phone = factory.Sequence(lambda n: f"06{n:08d}")
    email = factory.Sequence(lambda n: f"contact{n}@installateur.fr")


class PlantFactory(DjangoModelFactory):
    class Meta:
        model = Plant

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Maison {n}")
    address = "3 rue C"
    postcode = "69003"
    city = "Lyon"
    pv_power_kwp = 6
    system_type = SystemType.DC
    battery_model = BatteryModel.AURA_10

    @classmethod
    def _create(cls, model_class, *args, company, **fields):
        return plant_create(company=company, by=fields.pop("created_by", None), **fields)


class DataloggerFactory(DjangoModelFactory):
    """A stick reached directly on this machine's port 1, where nothing answers."""

    class Meta:
        model = Datalogger

    plant = factory.SubFactory(PlantFactory)
    serial_number = factory.Sequence(lambda n: f"{2401000000 + n}")
    reach = Reach.DIRECT
    host = "127.0.0.1"
    port = 1

    @classmethod
    def _create(cls, model_class, *args, plant, serial_number, reach, host, port, **state):
        logger = datalogger_attach(
            plant=plant, serial_number=serial_number, reach=reach, host=host, port=port
        )
        if state:  # what polls would have recorded (status, last_seen_at…)
            Datalogger.objects.filter(pk=logger.pk).update(**state)
            logger.refresh_from_db()
            plants_changed.send(sender=Datalogger, plant_ids=[plant.pk])
        return logger


class InverterFactory(DjangoModelFactory):
    class Meta:
        model = Inverter

    datalogger = factory.SubFactory(DataloggerFactory)
    serial_number = factory.Sequence(lambda n: f"KS{n:07d}")

    @classmethod
    def _create(cls, model_class, *args, **fields):
        inverter = super()._create(model_class, *args, **fields)
        plants_changed.send(sender=Inverter, plant_ids=[inverter.datalogger.plant_id])
        return inverter


def reading_stored(inverter, slot, **values):
    """A history row as a poll stores it: the inverter's newest slot claimed with it (Reading has no
    unique index; every writer claims `Inverter.history_slot`, docs/architecture/invariants.md)."""
    reading = Reading.objects.create(inverter=inverter, slot=slot, **values)
    Inverter.objects.filter(pk=inverter.pk).update(history_slot=slot)
    return reading


def open_alarm(logger, code, minutes_ago=10, cleared=False):
    """An alarm of `code` on the logger (COM) or its inverter, begun `minutes_ago`, as detection
    opens it; cleared now when asked."""
    now = timezone.now()
    return Alarm.objects.create(
        plant=logger.plant,
        datalogger=logger,
        inverter=None if code == "COM" else logger.inverters.get(),
        code_id=code,
        started_at=now - timedelta(minutes=minutes_ago),
        cleared_at=now if cleared else None,
    )


def api_token(user, scopes=("read",), plants=(), days=30):
    """A usable API token of `user`, made as the tokens page makes one; returns its secret."""
    return api_token_create(
        user=user,
        name="Outil",
        scopes=scopes,
        plants=plants,
        expires_at=timezone.now() + timedelta(days=days),
    )[1]
