"""The plant's own pages: created, edited, its photos, its customers, handed over, archived."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.access import company_administrator_required, installer_required
from core.forms import add_errors
from core.scoping import ADMINISTER

from . import services
from .forms import (
    PICK_LIMIT,
    GrantForm,
    MemberPlantsForm,
    PhotoForm,
    PlantAccessForm,
    PlantForm,
    TransferForm,
)
from .models import CommissioningStep, Plant, PlantAccess, PlantGrant, PlantPhoto, time_zones_matching
from .shortcuts import get_plant_for_user, get_rw_plant_for_user


@installer_required
def plant_create(request):
    form = PlantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        plant = services.plant_create(company=request.user.company, by=request.user, **form.cleaned_data)
        messages.success(request, _("Plant created. Next: add its datalogger."))
        return redirect("plants:commission", pk=plant.pk, step=CommissioningStep.DATALOGGER)
    return render(request, "plants/create.html", {"form": form, "step": CommissioningStep.PLANT})


@login_required
def plant_edit(request, pk):
    plant = get_rw_plant_for_user(request, pk)
    form = PlantForm(request.POST or None, instance=plant)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Plant saved."))
        return redirect("plants:about", pk=pk)
    return render(request, "plants/edit.html", {"plant": plant, "form": form})


@login_required
def plant_about(request, pk):
    plant = get_plant_for_user(request, pk)
    can_edit = Plant.objects.restrict(request.user, "change").filter(pk=pk).exists()
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.photo_add(
                    plant=plant,
                    by=request.user,
                    upload=form.cleaned_data["image"],
                    caption=form.cleaned_data["caption"],
                )
                messages.success(request, _("Photo added."))
                return redirect("plants:about", pk=pk)
            except ValidationError as e:
                add_errors(form, e)
    return render(
        request,
        "plants/about.html",
        {
            "plant": plant,
            "photos": PlantPhoto.objects.restrict(request.user, "view").filter(plant=plant),
            "form": form,
            "can_edit": can_edit,
            "can_administer": Plant.objects.restrict(request.user, ADMINISTER).filter(pk=pk).exists(),
            "max_bytes": settings.PHOTO_MAX_BYTES,
        },
    )


@login_required
@require_safe
def photo_file(request, pk, photo_pk, variant):
    plant = get_plant_for_user(request, pk)
    photo = get_object_or_404(PlantPhoto.objects.restrict(request.user, "view"), pk=photo_pk, plant=plant)
    field = photo.thumbnail if variant == "thumb" else photo.image
    # Stored photos are JPEGs re-encoded by the portal; say so whatever the file is called, and forbid
    # the browser anything but showing an image (no script, no sniffing into HTML).
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    # (Inline style only for the browser's own image viewer; scripts stay forbidden by the sandbox.)
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def photo_delete(request, pk, photo_pk):
    plant = get_rw_plant_for_user(request, pk)
    get_object_or_404(PlantPhoto, pk=photo_pk, plant=plant).delete()
    messages.success(request, _("Photo deleted."))
    return redirect("plants:about", pk=pk)


@login_required
def grants(request, pk):
    plant = get_rw_plant_for_user(request, pk)
    form = GrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_create(plant=plant, by=request.user, **form.cleaned_data)
            messages.success(
                request, _("Access granted to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            if request.POST.get("from_stepper"):
                return redirect("plants:commission", pk=pk, step=CommissioningStep.FINISH)
            return redirect("plants:grants", pk=pk)
        except ValidationError as e:
            add_errors(form, e)
    template = "plants/commission_customer.html" if request.POST.get("from_stepper") else "plants/grants.html"
    return render(
        request,
        template,
        {
            "plant": plant,
            "form": form,
            "grants": plant.grants.select_related("customer"),
            "can_administer": Plant.objects.restrict(request.user, ADMINISTER).filter(pk=pk).exists(),
            "step": CommissioningStep.CUSTOMER,
            "next_step": plant.next_step,
        },
    )


@login_required
def plant_transfer(request, pk):
    """Hand the plant over to a new owner (a house sold): the current customers lose access."""
    plant = get_rw_plant_for_user(request, pk, ADMINISTER)
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plant_transfer(plant=plant, by=request.user, **form.cleaned_data)
            messages.success(
                request, _("The plant now belongs to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("plants:grants", pk=pk)
        except ValidationError as e:
            add_errors(form, e)
    return render(request, "plants/transfer.html", {"plant": plant, "form": form})


@login_required
def grant_check(request, pk):
    """The stepper's "check" button: says at once what granting this e-mail will do."""
    get_rw_plant_for_user(request, pk)
    return render(request, "plants/_grant_check.html", {"email": request.GET.get("email", "").strip()})


@login_required
@require_POST
def grant_revoke(request, pk, grant_pk):
    plant = get_rw_plant_for_user(request, pk)
    grant = get_object_or_404(PlantGrant, pk=grant_pk, plant=plant)
    services.grant_revoke(grant=grant)
    messages.success(request, _("Access of %(email)s revoked.") % {"email": grant.customer.email})
    return redirect("plants:grants", pk=pk)


@login_required
def plant_archive(request, pk):
    plant = get_rw_plant_for_user(request, pk, ADMINISTER)
    if request.method == "POST":
        if request.POST.get("confirm_name", "").strip() != plant.name:
            messages.error(request, _("Type the plant's name exactly to confirm."))
        else:
            services.plant_archive(plant=plant, by=request.user)
            messages.success(
                request, _("Plant “%(name)s” deleted. Its alarm history is kept.") % {"name": plant.name}
            )
            return redirect("plants:list")
    return render(request, "plants/archive.html", {"plant": plant})


@login_required
def invitation(request, token):
    """An existing customer's invitation to see a plant: shown, then accepted by that customer only."""
    grant = get_object_or_404(PlantGrant.objects.select_related("plant", "granted_by__company"), token=token)
    if grant.customer_id != request.user.pk:
        raise Http404
    if request.method == "POST":
        try:
            services.grant_accept(grant=grant, customer=request.user)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
            return redirect("home")
        messages.success(request, _("The plant is now in your account."))
        return redirect("plants:detail", pk=grant.plant_id)
    return render(request, "plants/invitation.html", {"grant": grant})


TIME_ZONE_MATCHES = 15


@installer_required
@require_safe
def time_zones(request):
    """The time zones matching the plant form's search (htmx: a datalist's options)."""
    query = request.GET.get("time_zone", "")[:64]
    zones = time_zones_matching(query, limit=TIME_ZONE_MATCHES)
    return render(request, "plants/_time_zones.html", {"zones": zones})


@installer_required
@require_safe
def plant_pick(request):
    """A plant picker's matches (htmx): the plants the installer may change whose name or city holds
    the search, at most PICK_LIMIT, after those already picked."""
    field = request.GET.get("field", "")[:40]
    picked_ids = [int(v) for v in request.GET.getlist(field) if v.isdigit()][:PICK_LIMIT]
    plants = Plant.objects.restrict(request.user, "change").only("name", "city")
    picked = list(plants.filter(pk__in=picked_ids))
    query = request.GET.get(f"{field}__q", "").strip()[:100]
    found = []
    if query:
        matches = plants.filter(Q(name__icontains=query) | Q(city__icontains=query)).exclude(
            pk__in=picked_ids
        )
        found = list(matches.order_by("name", "pk")[: PICK_LIMIT + 1])
    return render(
        request,
        "plants/_pick_results.html",
        {
            "field": field,
            "multiple": request.GET.get("multiple") == "1",
            "picked": picked,
            "found": found[:PICK_LIMIT] if query else None,
            "more": len(found) > PICK_LIMIT,
        },
    )


@login_required
def plant_accesses(request, pk):
    """The plant lent to subcontractors (installers of other companies) for a period."""
    plant = get_rw_plant_for_user(request, pk, ADMINISTER)
    form = PlantAccessForm(request.POST or None, plant=plant)
    if request.method == "POST" and form.is_valid():
        try:
            access = services.plant_lend(
                plant=plant,
                user=form.cleaned_data["who"],
                role=form.cleaned_data["role"],
                ends_at=form.ends_at(),
                by=request.user,
            )
        except ValidationError as e:
            add_errors(form, e)
        else:
            messages.success(
                request,
                _("%(name)s has the plant until %(until)s.")
                % {
                    "name": access.user.display_name(),
                    "until": formats.date_format(form.cleaned_data["until"]),
                },
            )
            return redirect("plants:accesses", pk=pk)
    accesses = plant.accesses.select_related("user__company", "given_by")
    return render(
        request,
        "plants/accesses.html",
        {"plant": plant, "form": form, "accesses": accesses, "now": timezone.now()},
    )


@login_required
@require_POST
def plant_access_end(request, pk, access_pk):
    plant = get_rw_plant_for_user(request, pk, ADMINISTER)
    access = get_object_or_404(PlantAccess, pk=access_pk, plant=plant)
    if services.plant_access_end(access=access, by=request.user):
        messages.success(
            request, _("%(name)s no longer has the plant.") % {"name": access.user.display_name()}
        )
    return redirect("plants:accesses", pk=pk)


@company_administrator_required
def member_plants(request, member_pk):
    """Which of the company's plants a technician or viewer sees: all, or those given to them."""
    member = get_object_or_404(request.user.company.members, pk=member_pk)
    initial = {
        "member": member.pk,
        "all_plants": member.all_plants,
        "plants": list(member.assigned_plants.all()),
    }
    form = MemberPlantsForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_give_plants(
                member=member,
                all_plants=form.cleaned_data["all_plants"],
                plants=form.cleaned_data["plants"],
                by=request.user,
            )
        except ValidationError as e:
            add_errors(form, e)
        else:
            messages.success(request, _("%(name)s's plants are saved.") % {"name": member.display_name()})
            return redirect("team")
    return render(request, "plants/member_plants.html", {"member": member, "form": form})
