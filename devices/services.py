"""The datalogger's life: attached to a plant by its SN, moved between plants, removed."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from plants.models import Plant
from plants.signals import plants_changed

from .models import Datalogger, FirmwareNote, Inverter, Protocol, Reach
from .signals import datalogger_moved, datalogger_removed, inverter_replacement_decided


def _sn_conflict_message(serial_number: str, company: Any) -> str:
    """Say the SN is taken without revealing another company's plant."""
    other = Datalogger.objects.active().filter(serial_number=serial_number).select_related("plant").first()
    if other and other.plant.company_id == company.id:
        return _(
            "This datalogger is already attached to your plant “%(plant)s”. Use “Move” on that "
            "plant to attach it here."
        ) % {"plant": other.plant.name}
    return _(
        "This serial number is already registered in the portal. If the stick was moved from "
        "another installation, ask the distributor to release it."
    )


def datalogger_attach(
    *,
    plant: Plant,
    serial_number: str,
    reach: str = Reach.HUB,
    protocol: str = Protocol.SOLARMAN_V5,
    host: str = "",
    port: int = 8899,
    unit_id: int = 1,
) -> Datalogger:
    """Attach a logger by its SN; an SN already attached anywhere is refused, and nothing changes."""
    logger = Datalogger(
        plant=plant,
        serial_number=serial_number.strip(),
        reach=reach,
        protocol=protocol,
        host=host,
        port=port,
        unit_id=unit_id,
    )
    logger.full_clean(validate_constraints=False)
    if Datalogger.objects.filter(serial_number=logger.serial_number, archived_at__isnull=True).exists():
        raise ValidationError({"serial_number": _sn_conflict_message(logger.serial_number, plant.company)})
    try:
        with transaction.atomic():
            logger.save()
    except IntegrityError:  # attached by someone else between our check and our insert
        raise ValidationError(
            {"serial_number": _sn_conflict_message(logger.serial_number, plant.company)}
        ) from None
    plants_changed.send(sender=Datalogger, plant_ids=[plant.pk])
    return logger


@transaction.atomic
def datalogger_move(*, logger: Datalogger, to_plant: Plant) -> None:
    """Move a logger with its inverters and history to another plant; its open alarms move with it
    (cleared ones stay where they happened)."""
    if to_plant.company_id != logger.plant.company_id:
        raise ValidationError(_("A datalogger can only move between plants of the same company."))
    from_plant_id = logger.plant_id
    logger.plant = to_plant
    logger.save(update_fields=["plant"])
    datalogger_moved.send(sender=Datalogger, logger=logger)
    plants_changed.send(sender=Datalogger, plant_ids=[from_plant_id, to_plant.pk])


@transaction.atomic
def datalogger_remove(*, logger: Datalogger) -> None:
    """Release the SN: the logger stops being polled, its open alarms are cleared at the removal
    time; its history and past alarms are kept."""
    logger.archived_at = timezone.now()
    logger.save(update_fields=["archived_at"])
    datalogger_removed.send(sender=Datalogger, logger=logger)
    plants_changed.send(sender=Datalogger, plant_ids=[logger.plant_id])


@transaction.atomic
def inverter_replacement_decide(*, inverter: Inverter, by: Any, confirmed: bool) -> bool:
    """An installer says whether they replaced the inverter: confirmed, it is the plant's (writes
    allowed); rejected, its readings leave the plant's figures. Decided once (a conditional update:
    two taps, or two installers, decide nothing twice); the replacement alarm clears either way."""
    now = timezone.now()
    decision = {"replacement_confirmed_at": now} if confirmed else {"rejected_at": now}
    decided = Inverter.objects.filter(
        pk=inverter.pk,
        replaces__isnull=False,
        replacement_confirmed_at__isnull=True,
        rejected_at__isnull=True,
    ).update(**decision)
    if decided:
        inverter_replacement_decided.send(sender=Inverter, inverter=inverter, by=by, at=now)
        plants_changed.send(sender=Inverter, plant_ids=[inverter.datalogger.plant_id])
    return bool(decided)


def firmware_note_save(*, firmware_arm: str, firmware_dsp: str, text: str, by: Any) -> None:
    """The distributor's note on a firmware version; an empty text removes it."""
    if not by.is_distributor_admin:
        raise PermissionDenied(_("Only the distributor keeps the firmware notes."))
    if not text.strip():
        FirmwareNote.objects.filter(firmware_arm=firmware_arm, firmware_dsp=firmware_dsp).delete()
        return
    note = FirmwareNote(
        firmware_arm=firmware_arm, firmware_dsp=firmware_dsp, text=text.strip(), updated_by=by
    )
    note.full_clean(validate_unique=False)
    FirmwareNote.objects.update_or_create(
        firmware_arm=firmware_arm,
        firmware_dsp=firmware_dsp,
        defaults={"text": note.text, "updated_by": by, "updated_at": timezone.now()},
    )
