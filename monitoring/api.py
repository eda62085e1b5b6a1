from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from . import fleet


class FleetViewSet(viewsets.ViewSet):
    """The fleet summary of the user's plants: counters by status, power, capacity, energy."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def list(self, request):
        return Response(fleet.fleet_summary(request.user, watch_list=10))


def register(router):
    router.register("fleet", FleetViewSet, basename="fleet")
