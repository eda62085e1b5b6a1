from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from core.access import IsInstallerOrReadOnly, TokenScope
from core.api import ListCreateDestroyViewSet, ModelCleanSerializer, as_drf_error
from core.edge import ID_REGEX, parse_id
from core.scoping import CONTROL, api_action
from plants.api import EditablePlantField

from . import polling, remote, services, tasks
from .filters import ReadingFilterSet
from .models import Datalogger, DeviceStatus, Inverter, Reading, SettingChange
from .registermap import HISTORY_FIELDS, describe


class LiveValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField(help_text="In the request's language.")
    value = serializers.JSONField(help_text="As decoded: a number, a code or a text.")
    text = serializers.CharField(help_text="As people read it: a choice's name, or the number with its unit.")
    unit = serializers.CharField()


class InverterSerializer(serializers.ModelSerializer):
    latest = serializers.JSONField(read_only=True, help_text="The latest values by register map key.")
    latest_at = serializers.DateTimeField(read_only=True, allow_null=True)
    firmware = serializers.CharField(read_only=True, help_text="Both versions, e.g. “ARM 1.2.3 · DSP 2.0.7”.")
    values = serializers.SerializerMethodField(help_text="The latest values, labelled, in the map's order.")
    grid_sign_flagged_on = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Local day on which grid power disagreed with the counters.",
    )

    @extend_schema_field(LiveValueSerializer(many=True))
    def get_values(self, inverter):
        return describe(inverter.latest)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not instance.seen_by(request.user):
            data.update(latest={}, values=[], latest_at=None)  # the previous owner's values
        return data

    class Meta:
        model = Inverter
        fields = [
            "id",
            "datalogger",
            "serial_number",
            "model_name",
            "battery_name",
            "firmware",
            "firmware_arm",
            "firmware_dsp",
            "rated_power_w",
            "status",
            "last_seen_at",
            "latest",
            "values",
            "latest_at",
            "grid_sign_flagged_on",
        ]
        read_only_fields = fields


class DataloggerSerializer(ModelCleanSerializer):
    # How the portal reaches a logger, and why it failed, is the installer's business.
    INSTALLER_ONLY = ("host", "port", "unit_id", "last_error")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated and request.user.is_customer:
            for name in self.INSTALLER_ONLY:
                data.pop(name, None)
        return data

    plant = EditablePlantField()
    last_error = serializers.CharField(
        read_only=True, allow_null=True, help_text="In the request's language."
    )
    # The SN's uniqueness is a constraint, worded by the service (validate_constraints=False here).
    inverters = InverterSerializer(many=True, read_only=True)

    class Meta:
        model = Datalogger
        fields = [
            "id",
            "serial_number",
            "plant",
            "reach",
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
    ok = serializers.BooleanField(help_text="The logger and its identified inverter answered.")
    status = serializers.ChoiceField(choices=DeviceStatus.choices)
    asleep = serializers.BooleanField()
    error = serializers.CharField(help_text="Why not, in words (empty when all is well).")
    datalogger = DataloggerSerializer()


class DataloggerViewSet(ListCreateDestroyViewSet):
    serializer_class = DataloggerSerializer
    permission_classes = [TokenScope, IsInstallerOrReadOnly]

    def get_queryset(self):
        return Datalogger.objects.restrict(self.request.user, api_action(self.request)).prefetch_related(
            "inverters__live"
        )

    def perform_create(self, serializer):
        try:
            serializer.instance = services.datalogger_attach(**serializer.validated_data)
        except DjangoValidationError as e:
            raise as_drf_error(e) from None

    def perform_destroy(self, instance):
        services.datalogger_remove(logger=instance)

    @extend_schema(request=None, responses=TestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Read the logger now and say whether it answers, and if not, why."""
        logger = self.get_object()
        result = polling.datalogger_test_connection(logger)
        return Response(
            {
                "ok": logger.status == DeviceStatus.ONLINE,
                "status": logger.status,
                "asleep": logger.status == DeviceStatus.ASLEEP,
                "error": str(result.error or logger.last_error or ""),
                "datalogger": DataloggerSerializer(logger).data,
            }
        )


class ReadingSerializer(serializers.ModelSerializer):
    not_counted = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The day counters whose value energy accounting did not use (a glitch or a spike).",
    )

    class Meta:
        model = Reading
        fields = ["slot", *HISTORY_FIELDS, "not_counted"]


class SettingsWriteSerializer(serializers.Serializer):
    changes = serializers.DictField(
        child=serializers.JSONField(), help_text="{setting key: new value}, e.g. {'working_mode': 2}."
    )


class SettingChangeSerializer(serializers.ModelSerializer):
    text = serializers.CharField(source="in_words", read_only=True, help_text="The change in plain words.")
    answer = serializers.CharField(read_only=True, allow_null=True, help_text="In the request's language.")
    old_value = serializers.JSONField(
        read_only=True, help_text="Read from the inverter just before the write (null until then)."
    )

    class Meta:
        model = SettingChange
        fields = [
            "id",
            "plant",
            "inverter",
            "key",
            "old_value",
            "new_value",
            "outcome",
            "answer",
            "created_at",
            "finished_at",
            "text",
        ]
        read_only_fields = fields


class InverterViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_REGEX  # a longer id is a 404, not a database error
    # The settings are read live from the device, written through the remote-control path.
    token_scopes = dict.fromkeys(("settings_read", "settings_read_async", "settings_write"), CONTROL)
    serializer_class = InverterSerializer

    def get_queryset(self):
        inverters = Inverter.objects.restrict(self.request.user, "view")
        return inverters.select_related("live", "datalogger__plant")

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], url_path="settings")
    def settings_read(self, request, pk=None):
        """The inverter's settings, read live from it now ({key: value}); installers of its company only.
        Synchronous: the answer comes within the logger's timeout."""
        inverter = get_object_or_404(Inverter.objects.restrict(request.user, "change"), pk=pk)
        try:
            return Response(remote.settings_read(inverter=inverter))
        except remote.UNREACHABLE as e:
            return Response({"detail": str(e) or _("The logger did not answer.")}, status=503)

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], url_path="settings/read")
    def settings_read_async(self, request, pk=None):
        """Read the settings live in the background: 202 with `status_url`, where the values (or why
        not) wait for 15 minutes."""
        inverter = get_object_or_404(Inverter.objects.restrict(request.user, "change"), pk=pk)
        token = remote.settings_read_request(inverter=inverter, by=request.user)
        tasks.read_settings.delay_on_commit(token)
        url = request.build_absolute_uri(f"/api/v1/settings-reads/{token}/")
        return Response({"id": token, "status_url": url}, status=202)

    @extend_schema(request=SettingsWriteSerializer, responses={202: SettingChangeSerializer(many=True)})
    @settings_read.mapping.post
    def settings_write(self, request, pk=None):
        """Change settings: validated now (400 with the reasons), recorded, then written one by one in
        the background; each change's URL (`/api/v1/setting-changes/<id>/`) gives its outcome."""
        inverter = get_object_or_404(Inverter.objects.restrict(request.user, "change"), pk=pk)
        body = SettingsWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            changes = remote.setting_changes_request(
                inverter=inverter, by=request.user, new=body.validated_data["changes"]
            )
        except DjangoValidationError as e:
            raise as_drf_error(e) from None
        tasks.apply_setting_changes.delay_on_commit([c.pk for c in changes])
        return Response(SettingChangeSerializer(changes, many=True).data, status=202)

    @extend_schema(
        responses=ReadingSerializer(many=True),
        parameters=[
            OpenApiParameter(name, OpenApiTypes.DATETIME, description=str(f.label))
            for name, f in ReadingFilterSet.base_filters.items()
        ],
    )
    @action(detail=True, methods=["get"])
    def readings(self, request, pk=None):
        """History of one inverter, newest first (?since= / ?until= ISO 8601 times bound it)."""
        inverter = get_object_or_404(self.get_queryset(), pk=pk)  # not get_object: it would filter inverters
        since = inverter.datalogger.plant.history_since_for(request.user)  # the hand-over boundary
        readings = Reading.objects.filter(inverter=inverter).during(since)
        filters = ReadingFilterSet(request.query_params, queryset=readings)
        if not filters.is_valid():
            raise ValidationError(filters.errors)
        page = self.paginate_queryset(filters.qs.with_not_counted().newest_first())
        return self.get_paginated_response(ReadingSerializer(page, many=True).data)


class SettingChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """The remote-control log: every attempt, who, when, old → new, outcome (?plant= to narrow it)."""

    serializer_class = SettingChangeSerializer
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        changes = SettingChange.objects.restrict(self.request.user, "view").select_related("by__company")
        plant = parse_id(self.request.query_params.get("plant"))
        return changes if plant is None else changes.filter(plant_id=plant)


class SettingsReadViewSet(viewsets.ViewSet):
    """The status of a background settings read: pending, done (values, read_at) or failed (error)."""

    lookup_value_regex = "[0-9a-f]{32}"
    token_scopes = {"retrieve": CONTROL}  # the settings read live (see InverterViewSet)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, pk=None):
        state = remote.settings_read_status(token=pk)
        if (
            state is None
            or not Inverter.objects.restrict(request.user, "change").filter(pk=state["inverter"]).exists()
        ):
            raise NotFound
        return Response({key: value for key, value in state.items() if key != "by"})


def register(router):
    router.register("dataloggers", DataloggerViewSet, basename="datalogger")
    router.register("inverters", InverterViewSet, basename="inverter")
    router.register("setting-changes", SettingChangeViewSet, basename="setting-change")
    router.register("settings-reads", SettingsReadViewSet, basename="settings-read")
