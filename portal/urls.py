from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from alarms import api as alarms_api
from devices import api as devices_api
from energy import api as energy_api
from plants import api as plants_api

from . import api, monitoring, views
from .edge import IdConverter

register_converter(IdConverter, "id")

# No ".json" URL suffixes: ?format=json does the same, and suffixes reached actions that take none.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("companies", api.CompanyViewSet, basename="company")
router.register("account-requests", api.ProAccountRequestViewSet, basename="account-request")
plants_api.register(router)
devices_api.register(router)
alarms_api.register(router)
energy_api.register(router)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            html_email_template_name=None,
            email_template_name="emails/password_reset.txt",
            subject_template_name="emails/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("pro-account/request/", views.account_request, name="account_request"),
    path("pro-account/request/sent/", views.account_request_sent, name="account_request_sent"),
    path("pro-account/requests/", views.account_requests, name="account_requests"),
    path("pro-account/requests/<id:pk>/", views.account_request_detail, name="account_request_detail"),
    path("companies/", views.companies, name="companies"),
    path("companies/<id:pk>/", views.company_detail, name="company_detail"),
    path("companies/<id:pk>/active/", views.company_set_active, name="company_set_active"),
    path("security-events/", views.security_events, name="security_events"),
    path("team/", views.team, name="team"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/my-data/", views.my_data, name="my_data"),
    path("preferences/my-data/<str:token>.zip", views.my_data_download, name="my_data_download"),
    path("preferences/erase/", views.erase_account, name="erase_account"),
    path("plants/", include("plants.urls")),
    path("plants/", include("energy.urls")),
    path("devices/", include("devices.urls")),
    path("alarms/", include("alarms.urls")),
    path("api/v1/", include(router.urls)),
    path("api/v1/me/", api.MeView.as_view(), name="api-me"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
