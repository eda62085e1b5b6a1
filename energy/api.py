"""The dashboard's figures over the API (and for its charts): live flow, a day's power curves, energy
bars, and the fleet summary. Same restricted querysets and the same validation as the pages."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.edge import ID_REGEX
from devices.models import Inverter
from plants.models import Plant

from . import reports
from .accounting import local_today
from .forms import DayForm, PeriodForm


def _valid(form):
    if not form.is_valid():
        raise ValidationError(form.errors)
    return form.cleaned_data


class PlantFiguresViewSet(viewsets.GenericViewSet):
    """A plant's live power flow, power curves and energy, for whoever may see the plant."""

    lookup_value_regex = ID_REGEX
    queryset = Plant.objects.none()

    def plant(self, pk):
        return get_object_or_404(Plant.objects.restrict(self.request.user, "view"), pk=pk)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def live(self, request, pk=None):
        """The plant now, compact enough to poll every 30 s with a read-scoped token (home automation:
        docs/integrations.md): `status` (the plant's, as the fleet list says it), `live` (power in W,
        + = battery discharge / grid import; `battery_soc` in %; `at`, `age_s` and `stale` say how old
        the values are; `rated_w` the inverters' rating; null before a first read) and `today`
        (energy in Wh, ratios in %)."""
        plant = self.plant(pk)
        inverters = Inverter.objects.filter(
            datalogger__plant=plant, datalogger__archived_at__isnull=True
        ).select_related("live")
        since = plant.history_since_for(request.user)
        live = reports.live_flow(list(inverters), since=since)
        if live is not None:
            live["at"] = live["at"].isoformat()
        return Response(
            {
                "status": plant.status,
                "status_label": plant.get_status_display(),
                "live": live,
                "today": reports.today_summary(plant, since=since),
            }
        )

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="Local day (default today)")],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def power(self, request, pk=None):
        """One local day's power curves, one value per history slot, null where no reading (a gap)."""
        plant = self.plant(pk)
        day = _valid(DayForm(request.query_params))["date"] or local_today(plant)
        return Response(reports.power_curves(plant, day, since=plant.history_since_for(request.user)))

    @extend_schema(
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, enum=list(PeriodForm.PERIODS)),
            OpenApiParameter("date", OpenApiTypes.STR, description="YYYY-MM for a month, YYYY for a year"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def energy(self, request, pk=None):
        """Energy bars in Wh: the days of a month, the months of a year, or every year."""
        plant = self.plant(pk)
        data = _valid(PeriodForm(request.query_params))
        since = plant.history_since_for(request.user)
        return Response(reports.energy_bars(plant, data["period"], data.get("start"), since=since))


def register(router):
    router.register("plants", PlantFiguresViewSet, basename="plant-dashboard")
