"""Plant workflows: creation, customer grants, photos, archiving (dataloggers: devices.services)."""

import io
import struct
import uuid
import warnings
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import Company, SecurityEvent, User
from core.mail import send_templated, set_password_url
from core.scoping import ADMINISTER

from .models import Plant, PlantAccess, PlantGrant, PlantPhoto, SavedFilter
from .signals import plant_archived, plants_changed

PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
THUMBNAIL_SIZE = (480, 480)


def plant_create(*, company: Company, by: User, **fields: object) -> Plant:
    plant = Plant(company=company, created_by=by, **fields)
    plant.full_clean()
    plant.save()
    return plant


def customer_lookup(email: str) -> tuple[str, User | None]:
    """What granting `email` would do: "new", "existing" customer, or "unusable" (a pro account)."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        return "new", None
    return ("existing", user) if user.is_customer else ("unusable", user)


@transaction.atomic
def grant_create(
    *, plant: Plant, by: User, email: str, first_name: str = "", last_name: str = "", password: str = ""
) -> PlantGrant:
    """Give an end customer read-only access; an existing customer is granted, never duplicated.

    To the installer, every existing account is an invitation pending until accepted, whatever it
    is: another company's customer or a professional account look the same (no directory of
    accounts). A professional account's invitation can never be accepted; its owner is told why by
    e-mail."""
    state, customer = customer_lookup(email)
    created = customer is None
    if customer is None:
        customer = User(
            username=email.strip().lower(),
            email=email.strip(),
            first_name=first_name,
            last_name=last_name,
            role=User.Role.CUSTOMER,
        )
        if password:
            try:
                validate_password(password, customer)  # Django's validators, as for every password set
            except ValidationError as e:
                raise ValidationError({"password": e.messages}) from None
            customer.set_password(password)
        else:
            customer.set_unusable_password()
        customer.save()
    if PlantGrant.objects.filter(plant=plant, customer=customer).exists():
        raise ValidationError({"email": _("This customer already has access to this plant.")})
    # A new account is the customer's from the start; an existing one is invited and must accept.
    grant = PlantGrant.objects.create(
        plant=plant, customer=customer, granted_by=by, accepted_at=timezone.now() if created else None
    )
    plants_changed.send(sender=PlantGrant, plant_ids=[plant.pk])
    context = {
        "plant": plant,
        "customer": customer,
        "by": by,
        "created": created,
        "url": set_password_url(customer) if created and not password else None,
        "accept_url": None
        if created
        else settings.PORTAL_URL + reverse("plants:invitation", args=[grant.token]),
    }
    template = "plant_granted_to_professional" if state == "unusable" else "plant_granted"
    transaction.on_commit(
        lambda: send_templated(template, to=customer.email, context=context, language=customer.language)
    )
    return grant


def grant_accept(*, grant: PlantGrant, customer: User) -> None:
    """The invited customer accepts: the plant shows from now on. Only the invited customer may."""
    if grant.customer_id != customer.pk:
        raise ValidationError(_("This invitation is for another account."))
    if not customer.is_customer:
        raise ValidationError(_("A professional account cannot hold an end customer's access."))
    PlantGrant.objects.filter(pk=grant.pk, accepted_at__isnull=True).update(accepted_at=timezone.now())


def grant_revoke(*, grant: PlantGrant) -> None:
    grant.delete()
    plants_changed.send(sender=PlantGrant, plant_ids=[grant.plant_id])


def photo_add(*, plant: Plant, by: User, upload: UploadedFile, caption: str = "") -> PlantPhoto:
    """Store a photo re-encoded as JPEG under a generated name, with its thumbnail.

    Nothing the uploader sent is kept: not the name (a PNG named `x.html` would otherwise be served
    as HTML), not the bytes (a text chunk can carry a script), not the metadata (GPS position).
    """
    size = upload.size or 0
    if size > settings.PHOTO_MAX_BYTES:
        raise ValidationError(
            {
                "image": _("The photo is too large (%(size)s MB); the limit is %(max)s MB.")
                % {"size": round(size / 1e6, 1), "max": round(settings.PHOTO_MAX_BYTES / 1e6, 1)}
            }
        )
    image = _open_photo(upload)
    image = ImageOps.exif_transpose(image).convert("RGB")  # upright, as the phone showed it
    photo = PlantPhoto(plant=plant, uploaded_by=by, caption=caption)
    name = uuid.uuid4().hex
    photo.image.save(f"{name}.jpg", _jpeg(image, quality=88), save=False)
    image.thumbnail(THUMBNAIL_SIZE)
    photo.thumbnail.save(f"{name}-thumb.jpg", _jpeg(image, quality=82), save=False)
    photo.save()
    return photo


def _open_photo(upload: UploadedFile) -> Image.Image:
    """The decoded image, or the reason in words: not an image, not an allowed format, too many pixels."""
    not_an_image = ValidationError(
        {"image": _("This file is not an image. Please send a JPEG, PNG or WebP photo.")}
    )
    max_pixels = settings.PHOTO_MAX_MEGAPIXELS * 1_000_000
    too_big = ValidationError(
        {
            "image": _("The photo has too many pixels; the limit is %(max)s megapixels.")
            % {"max": settings.PHOTO_MAX_MEGAPIXELS}
        }
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)  # reads the header only: the pixel count is known before decoding
            if image.width * image.height > max_pixels:
                raise too_big
            if image.format not in PHOTO_FORMATS:
                raise ValidationError(
                    {
                        "image": _("Photos must be JPEG, PNG or WebP (this one is %(format)s).")
                        % {"format": image.format}
                    }
                )
            image.load()  # a truncated or disguised file fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        raise not_an_image from None
    return image


def _jpeg(image: Image.Image, *, quality: int) -> ContentFile:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return ContentFile(buffer.getvalue())


def plant_archive(*, plant: Plant, by: User) -> None:
    """ "Delete" a plant: hidden from installers and customers, loggers released, alarms kept."""
    now = timezone.now()
    with transaction.atomic():
        plant.archived_at, plant.archived_by = now, by
        plant.save(update_fields=["archived_at", "archived_by"])
        plant.dataloggers.filter(archived_at__isnull=True).update(archived_at=now)
        plant.grants.all().delete()
        plant_archived.send(sender=Plant, plant=plant, at=now)
        plants_changed.send(sender=Plant, plant_ids=[plant.pk])


@transaction.atomic
def plant_transfer(
    *,
    plant: Plant,
    by: User,
    email: str,
    share_history: bool = False,
    first_name: str = "",
    last_name: str = "",
    password: str = "",
) -> PlantGrant:
    """Hand the plant over to a new owner: every current customer loses access, the new one is
    granted (invited if they have an account), and sees nothing from before this moment unless the
    installer shares the history. Recorded for the distributor."""
    previous = list(plant.grants.values_list("customer_id", flat=True))
    plant.grants.all().delete()
    start = None if share_history else timezone.now()
    Plant.objects.filter(pk=plant.pk).update(customer_history_since=start)
    plant.customer_history_since = start
    grant = grant_create(
        plant=plant, by=by, email=email, first_name=first_name, last_name=last_name, password=password
    )
    SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.PLANT_TRANSFERRED,
        by=by,
        subject=f"customer #{grant.customer_id}",  # the new owner's copy of their data lists it
        detail=(
            f"plant #{plant.pk}: customers {previous or '-'} → #{grant.customer_id}; "
            f"history {'shared' if share_history else f'from {start:%Y-%m-%dT%H:%M:%SZ}'}"
        ),
    )
    return grant


def plant_confirm_battery(*, plant: Plant, battery_name: str) -> None:
    """The installer confirms the battery the inverter reports: its warning stops."""
    Plant.objects.filter(pk=plant.pk).update(battery_confirmed=battery_name[:32])


def plant_complete_commissioning(*, plant: Plant) -> bool:
    """Stamp the plant commissioned, once: False when it already was (two finishes at once stamp
    it once). The conditions are commissioning's (commissioning.services.commissioning_finish)."""
    at = timezone.now()
    done = Plant.objects.filter(pk=plant.pk, commissioning_completed_at__isnull=True).update(
        commissioning_completed_at=at
    )
    if done:
        plant.commissioning_completed_at = at
    return bool(done)


def plant_lend(*, plant: Plant, user: User, role: str, ends_at: datetime, by: User) -> PlantAccess:
    """Lend `plant` to an installer of another company (a subcontractor) until `ends_at`, as
    technician or viewer; they lose it then by themselves (Plant.objects.restrict). Only the plant's
    company's administrators lend."""
    if not Plant.objects.restrict(by, ADMINISTER).filter(pk=plant.pk).exists():
        raise PermissionDenied(_("Only the company's administrators lend a plant."))
    access = PlantAccess(plant=plant, user=user, role=role, ends_at=ends_at, given_by=by)
    access.full_clean()
    with transaction.atomic():
        access.save()
        User.objects.filter(pk=user.pk, borrows_plants=False).update(borrows_plants=True)
    user.borrows_plants = True
    transaction.on_commit(
        lambda: send_templated(
            "plant_lent",
            to=user.email,
            context={
                "access": access,
                "plant": plant,
                "by": by,
                "url": reverse("plants:detail", args=[plant.pk]),
            },
            language=user.language,
        )
    )
    return access


def plant_access_end(*, access: PlantAccess, by: User) -> bool:
    """End a lent access now (before its end); False if it had already ended."""
    if not Plant.objects.restrict(by, ADMINISTER).filter(pk=access.plant_id).exists():
        raise PermissionDenied(_("Only the company's administrators lend a plant."))
    now = timezone.now()
    ended = PlantAccess.objects.filter(pk=access.pk, ends_at__gt=now).update(
        ends_at=Greatest(now, F("starts_at") + timedelta(microseconds=1))
    )
    return bool(ended)


def member_give_plants(*, member: User, all_plants: bool, plants: Iterable[Plant], by: User) -> None:
    """Let a technician or viewer see every plant of the company, or only `plants`."""
    if not (by.is_company_administrator and member.is_installer and member.company_id == by.company_id):
        raise PermissionDenied(_("Only the company's administrators change roles."))
    plants = list(plants)
    if any(plant.company_id != by.company_id for plant in plants):
        raise ValidationError({"plants": _("Choose among the company's plants.")})
    with transaction.atomic():
        User.objects.filter(pk=member.pk).update(all_plants=all_plants)
        member.assigned_plants.set([] if all_plants else plants)


def saved_filter_save(*, user: User, name: str, query: str) -> SavedFilter:
    """Keep (or replace, by name) `user`'s named filter of the plant list; refused beyond
    SavedFilter.MAX_PER_USER. `query` is the list's query string, already reduced to its filters."""
    filters = SavedFilter.objects.filter(user=user)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # two saves at once count right
        if not filters.filter(name=name).exists() and filters.count() >= SavedFilter.MAX_PER_USER:
            raise ValidationError(
                _("You already keep %(n)s filters: delete one first.") % {"n": SavedFilter.MAX_PER_USER}
            )
        saved, _created = SavedFilter.objects.update_or_create(
            user=user, name=name, defaults={"query": query}
        )
    return saved
