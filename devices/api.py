from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from plants import services as plant_services
from plants.api import EditablePlantField, ListCreateDestroyViewSet, as_drf_error, plants_for
from portal.access import IsInstallerOrReadOnly

from . import services
from .models import Datalogger, Inverter, Reading


class InverterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Inverter
        fields = [
            "id",
            "datalogger",
            "serial_number",
            "model_name",
            "battery_name",
            "firmware",
            "rated_power_w",
            "status",
            "last_seen_at",
            "latest",
            "latest_at",
        ]
        read_only_fields = fields


class DataloggerSerializer(serializers.ModelSerializer):
    plant = EditablePlantField()
    inverters = InverterSerializer(many=True, read_only=True)

    class Meta:
        model = Datalogger
        fields = [
            "id",
            "serial_number",
            "plant",
            "protocol",
            "host",
            "port",
            "unit_id",
            "status",
            "last_seen_at",
            "last_error",
            "inverters",
        ]
        read_only_fields = ["status", "last_seen_at", "last_error"]
        # The SN's uniqueness is checked by the service, which words the refusal without leaking.
        validators = []
        extra_kwargs = {"serial_number": {"validators": []}}


class TestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    asleep = serializers.BooleanField()
    error = serializers.CharField()
    datalogger = DataloggerSerializer()


class DataloggerViewSet(ListCreateDestroyViewSet):
    serializer_class = DataloggerSerializer
    permission_classes = [IsInstallerOrReadOnly]

    def get_queryset(self):
        return (
            Datalogger.objects.active()
            .filter(plant__in=plants_for(self.request))
            .prefetch_related("inverters")
        )

    def perform_create(self, serializer):
        try:
            serializer.instance = plant_services.datalogger_attach(**serializer.validated_data)
        except DjangoValidationError as e:
            raise as_drf_error(e) from None

    def perform_destroy(self, instance):
        plant_services.datalogger_remove(logger=instance)

    @extend_schema(request=None, responses=TestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Read the logger now and say whether it answers, and if not, why."""
        logger = self.get_object()
        result = services.datalogger_test_connection(logger)
        return Response(
            {
                "ok": result.ok and not result.asleep,
                "asleep": result.asleep,
                "error": result.error,
                "datalogger": DataloggerSerializer(logger).data,
            }
        )


class ReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reading
        fields = [
            "slot",
            "pv_power",
            "load_power",
            "grid_power",
            "battery_power",
            "battery_soc",
            "pv_energy_total",
            "load_energy_total",
            "grid_import_total",
            "grid_export_total",
            "battery_charge_total",
            "battery_discharge_total",
            "warning_bits",
            "fault_bits",
        ]


class InverterViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = InverterSerializer

    def get_queryset(self):
        return Inverter.objects.for_user(self.request.user)

    @extend_schema(responses=ReadingSerializer(many=True))
    @action(detail=True, methods=["get"])
    def readings(self, request, pk=None):
        """History of one inverter, newest first (?since=ISO time to bound it)."""
        readings = Reading.objects.filter(inverter=self.get_object()).order_by("-slot")
        if since := request.query_params.get("since"):
            readings = readings.filter(slot__gte=since)
        page = self.paginate_queryset(readings)
        return self.get_paginated_response(ReadingSerializer(page, many=True).data)


def register(router):
    router.register("dataloggers", DataloggerViewSet, basename="datalogger")
    router.register("inverters", InverterViewSet, basename="inverter")
