from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .models import Inverter
from .registermap import REGISTERS, Group


@login_required
def inverter_detail(request, pk):
    """Every live value of the inverter, labelled and with its unit, from the register map."""
    inverter = get_object_or_404(
        Inverter.objects.for_user(request.user).select_related("datalogger__plant"), pk=pk
    )
    rows = [
        (reg.label, reg.display(inverter.latest[reg.key]))
        for reg in REGISTERS
        if reg.group == Group.LIVE and reg.key in inverter.latest
    ]
    return render(
        request,
        "devices/inverter.html",
        {"inverter": inverter, "rows": rows, "plant": inverter.datalogger.plant},
    )
