"""The stored plant status (what every list reads) equals the rule (`plants_with_computed_status`) after
every transition: real polls of the simulator, logger moves and removal, grants, archive."""

from django.urls import reverse
from django.utils import timezone

from devices import polling
from devices.models import Datalogger, DeviceStatus, Inverter
from devices.services import datalogger_move, datalogger_remove
from devices.simulator import Behaviour
from monitoring.status import STORED_STATUS, plant_status_refresh, plants_with_computed_status
from plants.models import Plant, PlantStatus
from plants.services import grant_create, grant_revoke, plant_archive

from .conftest import attach_logger, awake_inverter, login, make_plant
from .factories import InverterFactory
from .test_fleet_count import assert_fleet_counted
from .test_polling import place_at_solar_hour


def assert_stored_is_computed(*plants):
    for plant in plants_with_computed_status(Plant.objects.filter(pk__in=[p.pk for p in plants])):
        stored = {field: getattr(plant, field) for field in STORED_STATUS}
        computed = {field: getattr(plant, name) for field, name in STORED_STATUS.items()}
        assert stored == computed, plant.name
        assert_fleet_counted(plant.company_id)


def status(plant):
    return Plant.objects.get(pk=plant.pk).status


def test_every_transition_keeps_the_stored_status_equal_to_the_rule(
    simulator, plant, company, installer, settings
):
    settings.DEVICE_OFFLINE_AFTER_MISSED = 1
    settings.DEVICE_TIMEOUT_SECONDS = 0.5
    settings.DEVICE_RETRIES = 0
    place_at_solar_hour(plant, 12)  # a silent inverter is a fault at noon, not sleep
    other = make_plant(company, name="Autre maison")
    device = simulator.add_v5(awake_inverter(2355550777, "AU0550777"))
    try:
        assert status(plant) == PlantStatus.INCOMPLETE
        logger = attach_logger(plant, device, simulator)
        assert_stored_is_computed(plant)
        assert status(plant) == PlantStatus.OFFLINE  # never seen yet

        polling.poll_loggers([logger.id], force_info=True)
        assert_stored_is_computed(plant)
        assert status(plant) == PlantStatus.ONLINE

        device.behaviour = Behaviour.UNPLUGGED  # 05 00 in daylight: the inverter is not answering
        polling.poll_loggers([logger.id])
        assert_stored_is_computed(plant)
        assert status(plant) == PlantStatus.OFFLINE

        device.behaviour = Behaviour.NORMAL
        polling.poll_loggers([logger.id])
        assert status(plant) == PlantStatus.ONLINE

        simulator.v5_devices.pop(device.logger_serial)  # the stick goes silent
        polling.poll_loggers([logger.id])
        assert_stored_is_computed(plant)
        assert status(plant) == PlantStatus.OFFLINE

        grant = grant_create(plant=plant, by=installer, email="client@exemple.fr", password="x-Long-9-pass")
        assert_stored_is_computed(plant)
        grant_revoke(grant=grant)
        assert_stored_is_computed(plant)

        datalogger_move(logger=logger, to_plant=other)
        assert_stored_is_computed(plant, other)
        assert (status(plant), status(other)) == (PlantStatus.INCOMPLETE, PlantStatus.OFFLINE)

        datalogger_remove(logger=logger)
        assert_stored_is_computed(other)
        assert status(other) == PlantStatus.INCOMPLETE

        attach_logger(plant, device, simulator)
        plant_archive(plant=plant, by=installer)
        assert_stored_is_computed(plant)
    finally:
        simulator.v5_devices.pop(device.logger_serial, None)


def test_saving_a_plant_loaded_before_a_poll_keeps_the_polls_status(installer, plant, simulator, v5_device):
    stale = Plant.objects.get(pk=plant.pk)
    logger = attach_logger(plant, v5_device, simulator)
    polling.poll_loggers([logger.id], force_info=True)
    stale.city = "Vénissieux"
    stale.save()
    assert status(plant) == PlantStatus.ONLINE
    assert Plant.objects.get(pk=plant.pk).city == "Vénissieux"


def test_the_list_searches_name_address_and_city_by_trigram_index_and_sn_exactly(installer, company, plant):
    make_plant(company, name="Ferme du Moulin", address="12 chemin des Écluses", city="Quimper")
    client = login(installer)

    def names(q):
        return [p.name for p in client.get(reverse("plants:list"), {"q": q}).context["page"]]

    assert names("moulin") == ["Ferme du Moulin"]
    assert names("ÉCLUSES") == ["Ferme du Moulin"]
    assert names("quimp") == ["Ferme du Moulin"]
    assert names("2401") == []  # a serial number matches exactly, never in part


def test_a_stick_asleep_with_no_inverter_ever_identified_is_not_online(simulator, plant, v5_device):
    """At night the stick answers `05 00`: it is asleep, not down, yet nothing of the plant was ever
    read. The plant is online only once an inverter answered."""
    v5_device.behaviour = Behaviour.ASLEEP
    logger = attach_logger(plant, v5_device, simulator)
    place_at_solar_hour(plant, 0)
    polling.poll_loggers([logger.id], force_info=True)
    assert status(plant) == PlantStatus.INCOMPLETE
    v5_device.behaviour = Behaviour.NORMAL
    polling.poll_loggers([logger.id], force_info=True)
    assert status(plant) == PlantStatus.ONLINE
    assert_stored_is_computed(plant)


def test_a_plant_with_several_loggers_inverters_and_customers_counts_each_once(plant, installer):
    """Two sticks (one with two inverters), two customers: each counted once, whatever the joins."""
    first = InverterFactory(
        datalogger__plant=plant, datalogger__status=DeviceStatus.ONLINE, status=DeviceStatus.ONLINE
    )
    InverterFactory(datalogger=first.datalogger, status=DeviceStatus.ONLINE)
    second = InverterFactory(
        datalogger__plant=plant,
        datalogger__status=DeviceStatus.ONLINE,
        datalogger__last_seen_at=timezone.now(),
    )
    for n in range(2):
        grant_create(plant=plant, by=installer, email=f"client{n}@exemple.fr", password="x-Long-9-pass")
    stored = Plant.objects.get(pk=plant.pk)
    assert (stored.n_loggers, stored.n_loggers_seen, stored.n_devices, stored.n_grants) == (2, 1, 5, 2)
    assert (stored.status, stored.n_down) == (PlantStatus.PARTIALLY_OFFLINE, 1)  # `second` never seen
    Inverter.objects.filter(pk=second.pk).update(status=DeviceStatus.ASLEEP)
    plant_status_refresh(Plant.objects.filter(pk=plant.pk))
    assert Plant.objects.get(pk=plant.pk).status == PlantStatus.ONLINE  # asleep is not down
    Datalogger.objects.filter(pk=first.datalogger_id).update(status=DeviceStatus.OFFLINE)
    plant_status_refresh(Plant.objects.filter(pk=plant.pk))
    stored = Plant.objects.get(pk=plant.pk)
    assert (stored.status, stored.n_down) == (PlantStatus.PARTIALLY_OFFLINE, 1)  # its two inverters: once
    datalogger_remove(logger=second.datalogger)
    assert (Plant.objects.get(pk=plant.pk).n_loggers, Plant.objects.get(pk=plant.pk).n_devices) == (1, 3)


def test_every_device_down_is_offline_and_a_replaced_inverter_is_no_device(plant):
    old = InverterFactory(datalogger__plant=plant, datalogger__status=DeviceStatus.OFFLINE)
    Inverter.objects.filter(pk=old.pk).update(status=DeviceStatus.OFFLINE)
    plant_status_refresh(Plant.objects.filter(pk=plant.pk))
    assert Plant.objects.get(pk=plant.pk).status == PlantStatus.OFFLINE
    assert plant_status_refresh(Plant.objects.filter(pk=plant.pk)) == 0  # nothing changed: no row written
    assert plant_status_refresh(Plant.objects.filter(pk__in=[])) == 0
    Inverter.objects.filter(pk=old.pk).update(ended_at=timezone.now())
    InverterFactory(datalogger=old.datalogger, status=DeviceStatus.ONLINE, replaces=old)
    Datalogger.objects.filter(pk=old.datalogger_id).update(status=DeviceStatus.ONLINE)
    assert plant_status_refresh(Plant.objects.filter(pk=plant.pk)) == 1
    stored = Plant.objects.get(pk=plant.pk)
    assert (stored.status, stored.n_devices, stored.n_down) == (PlantStatus.ONLINE, 2, 0)


def computed_status(plant):
    return plants_with_computed_status(Plant.objects.all()).get(pk=plant.pk).computed_status


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


def test_a_plant_loaded_without_its_status_still_knows_its_next_step(plant):
    fresh = Plant.objects.get(pk=plant.pk)  # no with_status()
    assert fresh.next_step == "datalogger" and fresh.get_status_display() == "Incomplète"
