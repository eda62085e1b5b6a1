from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from .models import Inverter
from .registermap import PUBLIC_DOCUMENT, describe


@login_required
@require_safe
def inverter_detail(request, pk):
    """Every live value of the inverter, labelled and with its unit, from the register map."""
    inverter = get_object_or_404(
        Inverter.objects.restrict(request.user, "view").select_related("datalogger__plant"), pk=pk
    )
    return render(
        request,
        "devices/inverter.html",
        {
            "inverter": inverter,
            "rows": describe(inverter.latest),
            "plant": inverter.datalogger.plant,
            "public_document": PUBLIC_DOCUMENT,
        },
    )
