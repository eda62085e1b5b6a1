from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.models import User
from core.access import IsCompanyMember, IsCompanySettings, IsInstaller, TokenScope
from core.api import ListCreateDestroyViewSet, ModelCleanSerializer, as_drf_error
from core.edge import ID_REGEX
from core.scoping import ALARMS
from plants.models import Plant

from . import services
from .filters import AlarmFilterSet
from .forms import ThresholdRuleForm
from .models import (
    Alarm,
    AlarmCode,
    AlarmNote,
    AlarmPolicy,
    Incident,
    MaintenanceWindow,
    Subscription,
    ThresholdRule,
)


class AlarmCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlarmCode
        fields = ["code", "kind", "severity", "meaning_fr", "meaning_en", "hint_fr", "hint_en"]


class AlarmSerializer(serializers.ModelSerializer):
    meaning = serializers.CharField(source="code.meaning", read_only=True)
    kind = serializers.CharField(source="code.kind", read_only=True)
    detail = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="What the device gave with the code (in the request's language).",
    )

    class Meta:
        model = Alarm
        fields = [
            "id",
            "plant",
            "datalogger",
            "inverter",
            "code",
            "kind",
            "meaning",
            "started_at",
            "cleared_at",
            "acknowledged_by",
            "acknowledged_at",
            "note",
            "detail",
            "status",
            "assignee",
            "resolution",
            "times_raised",
            "in_maintenance",
            "notes",
        ]
        read_only_fields = fields

    notes = serializers.SerializerMethodField(help_text="The notes the reader may see (a customer: theirs).")

    def get_notes(self, alarm) -> list[dict]:
        return [
            {
                "at": n.at,
                "by": n.by.get_full_name() or n.by.username,
                "text": n.text,
                "for_customer": n.for_customer,
            }
            for n in getattr(alarm, "visible_notes", [])
        ]

    def to_representation(self, instance):
        """The internal note, who works on it and why it was closed are the installers'."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated and request.user.is_customer:
            for name in ("note", "assignee", "resolution", "acknowledged_by"):
                data.pop(name, None)
        return data


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class IncidentSerializer(serializers.Serializer):
    status = serializers.ChoiceField(Incident.choices)
    assignee = serializers.IntegerField(required=False, allow_null=True, help_text="A member of the company.")
    resolution = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class NoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    for_customer = serializers.BooleanField(default=False)
    visit_on = serializers.DateField(required=False, allow_null=True)


class AlarmViewSet(viewsets.ReadOnlyModelViewSet):
    """Alarms in triage order; filters: plant, code, kind, state (active/cleared), since, until."""

    lookup_value_regex = ID_REGEX  # a longer id is a 404, not a database error
    token_scope = ALARMS  # acknowledging, incidents and notes

    serializer_class = AlarmSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AlarmFilterSet

    def get_queryset(self):
        notes = Prefetch(
            "notes",
            AlarmNote.objects.restrict(self.request.user, "view").select_related("by"),
            to_attr="visible_notes",
        )
        alarms = (
            Alarm.objects.restrict(self.request.user, "view").select_related("code").prefetch_related(notes)
        )
        return alarms.triage_order()

    @extend_schema(request=AcknowledgeSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alarm = self.get_object()
        if not Alarm.objects.restrict(request.user, "change").filter(pk=alarm.pk).exists():
            raise PermissionDenied
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.alarm_acknowledge(alarm=alarm, by=request.user, note=body.validated_data.get("note", ""))
        return Response(AlarmSerializer(alarm).data)

    def _changeable(self):
        alarm = self.get_object()
        if not Alarm.objects.restrict(self.request.user, "change").filter(pk=alarm.pk).exists():
            raise PermissionDenied
        return alarm

    @extend_schema(request=IncidentSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def incident(self, request, pk=None):
        """Take up, assign (a member of the company), resolve or ignore (with a reason)."""
        alarm = self._changeable()
        body = IncidentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        assignee = data.pop("assignee", None)
        data["assignee"] = User.objects.filter(pk=assignee).first() if assignee else None
        try:
            services.incident_update(alarm=alarm, by=request.user, **data)
        except DjangoValidationError as e:
            raise as_drf_error(e) from None
        return Response(
            AlarmSerializer(self.get_queryset().get(pk=alarm.pk), context={"request": request}).data
        )

    @extend_schema(request=NoteInputSerializer, responses={201: NoteInputSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """A follow-up note: internal, or for the customer (who then reads it)."""
        alarm = self._changeable()
        body = NoteInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            note = services.alarm_note_add(alarm=alarm, by=request.user, **body.validated_data)
        except DjangoValidationError as e:
            raise as_drf_error(e) from None
        return Response(NoteInputSerializer(note).data, status=201)


class AlarmCodeViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AlarmCode.objects.all()
    serializer_class = AlarmCodeSerializer


def register(router):
    router.register("alarms", AlarmViewSet, basename="alarm")
    router.register("alarm-codes", AlarmCodeViewSet, basename="alarm-code")
    router.register("alarm-rules", ThresholdRuleViewSet, basename="alarm-rule")
    router.register("maintenance-windows", MaintenanceWindowViewSet, basename="maintenance-window")


class AlarmPolicySerializer(ModelCleanSerializer):
    class Meta:
        model = AlarmPolicy
        fields = [
            "fault_delay_minutes",
            "warning_delay_minutes",
            "communication_delay_minutes",
            "code_delays",
            "quiet_minutes",
        ]

    clean_exclude = ("company",)


class AlarmPolicyView(generics.RetrieveUpdateAPIView):
    """The requesting installer's company's alarm policy (the defaults until saved)."""

    serializer_class = AlarmPolicySerializer
    permission_classes = [TokenScope, IsCompanySettings]

    def get_object(self):
        return AlarmPolicy.of(self.request.user.company_id)


class EditableCompanyPlants(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Plant.objects.restrict(self.context["request"].user, "change")


@extend_schema_field({"type": "array", "items": {"type": "integer"}})
class PlantList(serializers.ListField):
    """A list of the company's plant ids (a JSON object or a string is refused, unlike DRF's many)."""

    def to_representation(self, data):
        return [plant.pk for plant in data.all()]


class ThresholdRuleSerializer(ModelCleanSerializer):
    plants = PlantList(child=EditableCompanyPlants(), required=False, max_length=1000)

    class Meta:
        model = ThresholdRule
        # The same fields as the rules page's form.
        fields = ["id", *ThresholdRuleForm.Meta.fields]

    clean_exclude = ("company", "plants")


class ThresholdRuleViewSet(viewsets.ModelViewSet):
    """The company's threshold rules (an alarm when a live value stays beyond a threshold)."""

    lookup_value_regex = ID_REGEX
    serializer_class = ThresholdRuleSerializer
    permission_classes = [TokenScope, IsCompanySettings]

    def get_queryset(self):
        return ThresholdRule.objects.restrict(self.request.user, "change").prefetch_related("plants")

    def perform_create(self, serializer):
        serializer.save(company=self.request.user.company)


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    plant = EditableCompanyPlants()
    hours = serializers.IntegerField(write_only=True, min_value=1, max_value=31 * 24)

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "plant", "code", "starts_at", "ends_at", "reason", "hours"]
        read_only_fields = ["starts_at", "ends_at"]


class MaintenanceWindowViewSet(ListCreateDestroyViewSet):
    """Maintenance windows of the company's plants: created from now for `hours`; deleting one ends
    it now (it stays in the record)."""

    serializer_class = MaintenanceWindowSerializer
    permission_classes = [TokenScope, IsInstaller]

    def get_queryset(self):
        return MaintenanceWindow.objects.restrict(self.request.user, "change").order_by("-starts_at")

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.maintenance_start(
                plant=data["plant"],
                by=self.request.user,
                hours=data["hours"],
                code=data.get("code"),
                reason=data.get("reason", ""),
            )
        except DjangoValidationError as e:
            raise as_drf_error(e) from None

    def perform_destroy(self, instance):
        services.maintenance_end(window=instance)


class SubscriptionSerializer(ModelCleanSerializer):
    plants = PlantList(child=EditableCompanyPlants(), required=False, max_length=1000)

    class Meta:
        model = Subscription
        fields = ["tag", "plants", "working_hours_only"]

    clean_exclude = ("user", "plants")


class SubscriptionView(generics.RetrieveUpdateAPIView):
    """Which plants' alarms the requesting installer is e-mailed (a tag, a list; none: all), and
    whether only in working hours."""

    serializer_class = SubscriptionSerializer
    permission_classes = [TokenScope, IsCompanyMember]
    http_method_names = ["get", "put", "patch", "head", "options"]

    def get_object(self):
        return Subscription.objects.filter(user=self.request.user).first() or Subscription(
            user=self.request.user
        )

    def perform_update(self, serializer):
        plants = serializer.validated_data.pop("plants", None)
        subscription = serializer.save(user=self.request.user)
        if plants is not None:
            subscription.plants.set(plants)
