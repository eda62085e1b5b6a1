"""A plant brought, step by step, to the point where only what a test leaves out is missing: its
stick read over TCP from the simulator, a first full day of history, the clamp proven, every manual
item ticked, a customer authorised."""

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from commissioning import services
from commissioning.checks import checklist_of
from devices import polling
from devices.models import GRID_SIGN_MIN_EVIDENCE, Inverter, Reading
from plants.models import PlantGrant
from plants.signals import plants_changed

from .conftest import attach_logger


def stick_read(plant, device, simulator):
    logger = attach_logger(plant, device, simulator)
    polling.poll_loggers([logger.id], force_info=True)
    return logger, Inverter.objects.get(datalogger=logger)


def first_day_done(inverter):
    """The inverter was first read three days ago, and the day after has history."""
    first = timezone.now() - timedelta(days=3)
    Inverter.objects.filter(pk=inverter.pk).update(first_seen_at=first)
    Reading.objects.create(inverter=inverter, slot=first + timedelta(days=1), pv_power=1200)


def clamp_proven(inverter):
    check = {"day": timezone.localdate().isoformat(), "agree": GRID_SIGN_MIN_EVIDENCE, "disagree": 0}
    Inverter.objects.filter(pk=inverter.pk).update(grid_sign_check=check)


def everything_ticked(plant, by):
    """Each tickable item ticked, with a photo where one is asked for."""
    services.site_update(plant=plant, breaker_distance_m=3)
    for item in checklist_of(plant).items:
        if item.tickable:
            services.tick_record(plant=plant, item=item.key, by=by, upload=jpeg() if item.photo else None)


def customer_authorised(plant, customer, by):
    PlantGrant.objects.create(plant=plant, customer=customer, granted_by=by, accepted_at=timezone.now())
    plants_changed.send(sender=PlantGrant, plant_ids=[plant.pk])


def jpeg(colour="green"):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return SimpleUploadedFile("screen.jpg", out.getvalue(), content_type="image/jpeg")


def ready_but(plant, device, simulator, *, installer, customer, leave_out=()):
    """Every condition met on `plant` but those named in `leave_out`."""
    logger, inverter = stick_read(plant, device, simulator)
    if "first_day" not in leave_out:
        first_day_done(inverter)
    if "clamp" not in leave_out:
        clamp_proven(inverter)
    if "ticks" not in leave_out:
        everything_ticked(plant, installer)
    if "customer" not in leave_out:
        customer_authorised(plant, customer, installer)
    plant.refresh_from_db()
    return logger, Inverter.objects.get(pk=inverter.pk)
