"""The plant a page works on, looked up through `restrict` (NetBox's verb): every app's plant pages
use these, so that an unseen plant is a 404 everywhere and a read-only one a 403."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from core.scoping import CHANGE

from .models import Plant


def get_plant_for_user(request, pk):
    """The plant if `request.user` may see it, else 404 (never reveal another company's plant)."""
    return get_object_or_404(Plant.objects.restrict(request.user, "view"), pk=pk)


def get_rw_plant_for_user(request, pk, action=CHANGE):
    """The plant if `request.user` may change it (or do `action`): 404 if unseen, 403 if seen only."""
    plant = get_plant_for_user(request, pk)
    if not Plant.objects.restrict(request.user, action).filter(pk=pk).exists():
        raise PermissionDenied
    return plant
