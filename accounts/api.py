from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import IsDistributorAdmin, TokenScope
from core.edge import ID_REGEX
from core.scoping import ADMIN

from . import services
from .forms import ProAccountRequestForm
from .models import Company, ProAccountRequest, User


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "company", "language"]


class CompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "address",
            "mobile_phone",
            "email",
            "agency",
            "customer_account_number",
            "is_active",
            "created_at",
            "deactivated_at",
        ]
        read_only_fields = ["is_active", "created_at", "deactivated_at"]


class ProAccountRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProAccountRequest
        fields = [
            "id",
            *ProAccountRequestForm.Meta.fields,
            "status",
            "created_at",
            "decided_at",
            "rejection_reason",
            "company",
        ]
        read_only_fields = fields


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField()


class MeView(APIView):
    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


INSTALLER_CHOICES = ["language", "email_warnings", "email_findings", "email_digest"]
CUSTOMER_CHOICES = ["language", "alert_me"]


class PreferencesSerializer(serializers.ModelSerializer):
    """What e-mails the user receives and in which language; each role has its own choices."""

    class Meta:
        model = User
        fields = ["language", "email_warnings", "email_findings", "email_digest", "alert_me"]

    def validate(self, attrs):
        allowed = CUSTOMER_CHOICES if self.instance.is_customer else INSTALLER_CHOICES
        refused = sorted(set(self.initial_data) - set(allowed))
        if refused:
            raise serializers.ValidationError({name: _("Not a choice of your role.") for name in refused})
        return attrs


class PreferencesView(generics.RetrieveUpdateAPIView):
    serializer_class = PreferencesSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user


class CompanyViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_REGEX  # a longer id is a 404, not a database error
    queryset = Company.objects.all()
    serializer_class = CompanySerializer
    permission_classes = [TokenScope, IsDistributorAdmin]
    token_scope = ADMIN

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        services.company_set_active(company=self.get_object(), active=False)
        return Response(CompanySerializer(self.get_object()).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        services.company_set_active(company=self.get_object(), active=True)
        return Response(CompanySerializer(self.get_object()).data)


class ProAccountRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID_REGEX  # a longer id is a 404, not a database error
    queryset = ProAccountRequest.objects.all()
    serializer_class = ProAccountRequestSerializer
    permission_classes = [TokenScope, IsDistributorAdmin]
    token_scope = ADMIN

    def get_queryset(self):
        status_ = self.request.query_params.get("status")
        return self.queryset.filter(status=status_) if status_ else self.queryset

    @extend_schema(request=None, responses=CompanySerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        try:
            company = services.account_request_approve(request_obj=self.get_object(), by=request.user)
        except ValidationError as e:
            return Response({"detail": " ".join(e.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(CompanySerializer(company).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RejectSerializer, responses=ProAccountRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        req = self.get_object()
        try:
            services.account_request_reject(
                request_obj=req, by=request.user, reason=body.validated_data["reason"]
            )
        except ValidationError as e:
            return Response({"detail": " ".join(e.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(ProAccountRequestSerializer(req).data)


def register(router):
    router.register("companies", CompanyViewSet, basename="company")
    router.register("account-requests", ProAccountRequestViewSet, basename="account-request")
