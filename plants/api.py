from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.parsers import FormParser, MultiPartParser

from core.access import IsInstaller, IsInstallerOrReadOnly, TokenScope
from core.api import ListCreateDestroyViewSet, ModelCleanSerializer, as_drf_error
from core.edge import ID_REGEX
from core.scoping import ADMINISTER, api_action

from . import services
from .filters import PlantFilterSet
from .forms import PlantForm
from .models import Plant, PlantGrant, PlantPhoto, fleet_counts


class EditablePlantField(serializers.PrimaryKeyRelatedField):
    """A plant the requesting installer may change; any other id is "does not exist"."""

    def get_queryset(self):
        return Plant.objects.restrict(self.context["request"].user, "change")


class PlantSerializer(ModelCleanSerializer):
    status = serializers.CharField(read_only=True)
    next_step = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Plant
        # The same fields as the pages' form, plus what the API also reports.
        fields = [
            "id",
            *PlantForm.Meta.fields,
            "status",
            "next_step",
            "company",
            "created_at",
            "commissioning_completed_at",
        ]
        read_only_fields = ["company", "created_at", "commissioning_completed_at"]

    clean_exclude = ("company", "created_by")

    def to_representation(self, instance):
        """The installer's internal notes are never shown to an end customer."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated and request.user.is_customer:
            data.pop("notes", None)
        return data


class PlantViewSet(viewsets.ModelViewSet):
    """Plants: everyone sees what they may; only the owning company's installers change them."""

    lookup_value_regex = ID_REGEX  # a longer id is a 404, not a database error

    serializer_class = PlantSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PlantFilterSet
    permission_classes = [TokenScope, IsInstallerOrReadOnly]

    def get_queryset(self):
        action = ADMINISTER if self.request.method == "DELETE" else api_action(self.request)
        return Plant.objects.restrict(self.request.user, action).order_by("name")

    def paginate_queryset(self, queryset):
        # The list's total from the fleet counters when at most the status filters it.
        filters = PlantFilterSet(self.request.query_params)
        if filters.is_valid():
            self.paginator.known_count = filters.known_count(fleet_counts(self.request.user)[0])
        return super().paginate_queryset(queryset)

    def perform_create(self, serializer):
        plant = services.plant_create(
            company=self.request.user.company, by=self.request.user, **serializer.validated_data
        )
        serializer.instance = plant

    def perform_update(self, serializer):
        serializer.save()

    def perform_destroy(self, instance):
        services.plant_archive(plant=instance, by=self.request.user)


class GrantSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(write_only=True)
    first_name = serializers.CharField(write_only=True, required=False, allow_blank=True)
    last_name = serializers.CharField(write_only=True, required=False, allow_blank=True)
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, min_length=8)
    customer_email = serializers.EmailField(source="customer.email", read_only=True)
    plant = EditablePlantField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.accepted_at is None:
            data["customer"] = None  # an invited account is nobody's to know until it accepts
        return data

    class Meta:
        model = PlantGrant
        fields = [
            "id",
            "plant",
            "customer",
            "customer_email",
            "created_at",
            "accepted_at",
            "email",
            "first_name",
            "last_name",
            "password",
        ]
        read_only_fields = ["customer", "created_at", "accepted_at"]


class GrantViewSet(ListCreateDestroyViewSet):
    """End-customer access to plants; only installers manage it."""

    serializer_class = GrantSerializer
    permission_classes = [TokenScope, IsInstaller]

    def get_queryset(self):
        return PlantGrant.objects.restrict(self.request.user, "change").select_related("customer")

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.grant_create(
                plant=data["plant"],
                by=self.request.user,
                email=data["email"],
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                password=data.get("password", ""),
            )
        except DjangoValidationError as e:
            raise as_drf_error(e) from None

    def perform_destroy(self, instance):
        services.grant_revoke(grant=instance)


class PhotoSerializer(serializers.ModelSerializer):
    plant = EditablePlantField()
    image = serializers.FileField(write_only=True)

    class Meta:
        model = PlantPhoto
        fields = ["id", "plant", "caption", "created_at", "image"]
        read_only_fields = ["created_at"]


class PhotoViewSet(ListCreateDestroyViewSet):
    serializer_class = PhotoSerializer
    permission_classes = [TokenScope, IsInstallerOrReadOnly]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return PlantPhoto.objects.restrict(self.request.user, api_action(self.request))

    @extend_schema(request={"multipart/form-data": PhotoSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.photo_add(
                plant=data["plant"],
                by=self.request.user,
                upload=data["image"],
                caption=data.get("caption", ""),
            )
        except DjangoValidationError as e:
            raise as_drf_error(e) from None


def register(router):
    router.register("plants", PlantViewSet, basename="plant")
    router.register("grants", GrantViewSet, basename="grant")
    router.register("photos", PhotoViewSet, basename="photo")
