"""The checklist, its automatic checks and the hand-over reports, for API clients: the same rules and
permissions as the pages (installers of the plant's company change; the distributor reads; a
customer reads the reports of a commissioned plant only)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.access import TokenScope
from core.api import as_drf_error
from core.edge import ID_REGEX
from plants.models import Plant

from . import services, tasks
from .checks import checklist_of
from .models import HandoverReport, Site


class ResultSerializer(serializers.Serializer):
    state = serializers.ChoiceField(["passed", "failed", "pending"])
    said = serializers.CharField(help_text="What was read, in words (the request's language).")
    at = serializers.DateTimeField(allow_null=True, help_text="When it was read.")


class TickSerializer(serializers.Serializer):
    by = serializers.CharField(source="by.username")
    at = serializers.DateTimeField()
    reason = serializers.CharField(help_text="Why the item does not apply; empty when done.")
    photo = serializers.IntegerField(source="photo_id", allow_null=True)


class ItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    section = serializers.CharField()
    kind = serializers.ChoiceField(["manual", "screen", "input", "automatic"])
    label = serializers.CharField()
    detail = serializers.CharField()
    photo = serializers.BooleanField(help_text="A photo is asked for (required for a screen item).")
    tick = TickSerializer(allow_null=True)
    result = ResultSerializer(allow_null=True)


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["breaker_distance_m", "grid_standard_reason", "finish_requested_at"]
        read_only_fields = ["finish_requested_at"]


class ChecklistSerializer(serializers.Serializer):
    plant = serializers.IntegerField()
    commissioning_completed_at = serializers.DateTimeField(allow_null=True)
    missing = serializers.ListField(child=serializers.CharField(), help_text="Empty once commissioned.")
    items = ItemSerializer(many=True)
    site = SiteSerializer()


class TickInputSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    photo = serializers.FileField(required=False, help_text="A photo (of the screen, the wiring…).")


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = HandoverReport
        fields = ["id", "created_at", "sha256"]


FINISH = inline_serializer(
    "CommissioningFinish",
    {
        "commissioned": serializers.BooleanField(),
        "missing": serializers.ListField(child=serializers.CharField()),
        "finish_requested": serializers.BooleanField(
            help_text="Only data was awaited: the portal finishes by itself once it comes."
        ),
    },
)


def checklist_data(plant):
    checklist = checklist_of(plant)
    site = Site.objects.filter(plant=plant).first() or Site(plant=plant)
    items = [
        {
            "key": item.key,
            "section": item.section,
            "kind": item.kind,
            "label": str(item.label),
            "detail": str(item.detail),
            "photo": item.photo,
            "tick": tick,
            "result": result,
        }
        for _section, rows in checklist.sections()
        for item, tick, result in rows
    ]
    return {
        "plant": plant.pk,
        "commissioning_completed_at": plant.commissioning_completed_at,
        "missing": [] if plant.commissioning_completed_at else checklist.missing(),
        "items": items,
        "site": site,
    }


class CommissioningViewSet(viewsets.GenericViewSet):
    """A plant's commissioning, by the plant's id."""

    lookup_value_regex = ID_REGEX
    permission_classes = [TokenScope, permissions.IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    serializer_class = ChecklistSerializer
    queryset = Plant.objects.none()  # each action restricts (the OpenAPI needs a model)

    def _plant(self, action_):
        user = self.request.user
        plant = get_object_or_404(Plant.objects.restrict(user, "view"), pk=self.kwargs["pk"])
        if action_ == "change" and not Plant.objects.restrict(user, "change").filter(pk=plant.pk).exists():
            raise Http404
        if action_ == "checklist" and user.is_customer:
            raise Http404  # the checklist is the installer's; the customer gets the report
        return plant

    def retrieve(self, request, pk=None):
        """The checklist now: each item with its tick or its automatic result, and what is missing."""
        return Response(ChecklistSerializer(checklist_data(self._plant("checklist"))).data)

    @extend_schema(request=TickInputSerializer, responses={201: TickSerializer})
    @action(detail=True, methods=["post"])
    def tick(self, request, pk=None):
        """Tick a manual or screen item (a screen item with a photo, or a reason)."""
        plant = self._plant("change")
        data = TickInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            tick = services.tick_record(
                plant=plant,
                item=data.validated_data["item"],
                by=request.user,
                reason=data.validated_data["reason"],
                upload=data.validated_data.get("photo"),
            )
        except DjangoValidationError as e:
            raise as_drf_error(e) from None
        return Response(TickSerializer(tick).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer("Untick", {"item": serializers.CharField()}), responses={204: None}
    )
    @action(detail=True, methods=["post"])
    def untick(self, request, pk=None):
        services.tick_remove(plant=self._plant("change"), item=str(request.data.get("item", ""))[:40])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=SiteSerializer, responses={200: SiteSerializer})
    @action(detail=True, methods=["patch"])
    def site(self, request, pk=None):
        """The breaker distance (m) and why the grid standard is not EN 50549, if it is not."""
        plant = self._plant("change")
        site = Site.objects.filter(plant=plant).first() or Site(plant=plant)
        data = SiteSerializer(site, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            site = services.site_update(plant=plant, **data.validated_data)
        except DjangoValidationError as e:
            raise as_drf_error(e) from None
        return Response(SiteSerializer(site).data)

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "Applied", {"changes": serializers.ListField(child=serializers.IntegerField())}
            )
        },
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Write the recommended settings that differ (read live first), each read back and logged;
        their outcomes are the settings log's (GET /api/v1/setting-changes/)."""
        plant = self._plant("change")
        try:
            changes = services.recommendation_request(plant=plant, by=request.user)
        except DjangoValidationError as e:
            raise as_drf_error(e) from None
        if changes:
            loggers = sorted({c.inverter.datalogger_id for c in changes})
            tasks.apply_recommendation.delay_on_commit([c.pk for c in changes], loggers)
        return Response({"changes": [c.pk for c in changes]}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: FINISH})
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        """Call the plant commissioned when nothing is missing (then its report is issued)."""
        plant = self._plant("change")
        missing, done = services.commissioning_finish(plant=plant)
        requested = bool(missing) and services.finish_request(plant=plant, by=request.user)
        if done:
            tasks.make_handover_report.delay_on_commit(plant.pk, request.user.pk)
        plant.refresh_from_db()
        return Response(
            {
                "commissioned": plant.commissioning_completed_at is not None,
                "missing": missing,
                "finish_requested": requested,
            }
        )

    @extend_schema(methods=["get"], responses={200: ReportSerializer(many=True)})
    @extend_schema(methods=["post"], request=None, responses={201: ReportSerializer})
    @action(detail=True, methods=["get", "post"])
    def reports(self, request, pk=None):
        """The hand-over reports (a customer's once the plant is commissioned); POST issues one now."""
        if request.method == "POST":
            report = services.report_make(plant=self._plant("change"), by=request.user)
            return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)
        plant = self._reports_plant()
        reports = HandoverReport.objects.restrict(request.user, "view").filter(plant=plant)
        return Response(ReportSerializer(reports, many=True).data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The report's PDF")})
    @action(detail=True, methods=["get"], url_path=rf"reports/(?P<report_pk>{ID_REGEX})")
    def report(self, request, pk=None, report_pk=None):
        plant = self._plant("view")
        report = get_object_or_404(
            HandoverReport.objects.restrict(request.user, "view"), pk=report_pk, plant=plant
        )
        return FileResponse(
            report.pdf.open("rb"), content_type="application/pdf", filename=f"{report.sha256[:12]}.pdf"
        )

    def _reports_plant(self):
        """The list answers 404 to a customer before commissioning, as the report itself does."""
        plant = self._plant("view")
        if self.request.user.is_customer and plant.commissioning_completed_at is None:
            raise Http404
        return plant


def register(router):
    router.register("commissioning", CommissioningViewSet, basename="commissioning")
