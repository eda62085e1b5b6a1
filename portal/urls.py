from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from alarms import api as alarms_api
from commissioning import api as commissioning_api
from commissioning import urls as commissioning_urls
from devices import api as devices_api
from devices import urls as devices_urls
from energy import api as energy_api
from integrations import api as integrations_api
from monitoring import api as monitoring_api
from monitoring import urls as monitoring_urls
from plants import api as plants_api
from plants import urls as plants_urls

from . import prometheus, views

# One URL space and namespace for a plant's pages, whichever app serves them (plants.urls).
# Commissioning's before devices': it serves the stepper's last step.
plant_pages = [
    *plants_urls.urlpatterns,
    *monitoring_urls.plant_urlpatterns,
    *commissioning_urls.plant_urlpatterns,
    *devices_urls.plant_urlpatterns,
]

# No ".json" URL suffixes: ?format=json does the same, and suffixes reached actions that take none.
router = DefaultRouter()
router.include_format_suffixes = False
accounts_api.register(router)
plants_api.register(router)
devices_api.register(router)
alarms_api.register(router)
energy_api.register(router)
commissioning_api.register(router)
monitoring_api.register(router)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("manifest.webmanifest", views.web_app_manifest, name="web_app_manifest"),
    path("metrics", prometheus.metrics, name="metrics"),
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
    path("", include("accounts.urls")),
    path("", include("privacy.urls")),
    path("", include("integrations.urls")),
    path("plants/", include((plant_pages, "plants"))),
    path("plants/", include("energy.urls")),
    path("", include("economics.urls")),
    path("devices/", include("devices.urls")),
    path("alarms/", include("alarms.urls")),
    path("api/v1/", include(router.urls)),
    path("api/v1/me/", accounts_api.MeView.as_view(), name="api-me"),
    path("api/v1/me/preferences/", accounts_api.PreferencesView.as_view(), name="api-preferences"),
    path("api/v1/events/", integrations_api.EventFeedView.as_view(), name="event-list"),
    path("api/v1/alarm-policy/", alarms_api.AlarmPolicyView.as_view(), name="alarm-policy"),
    path("api/v1/me/alarm-subscription/", alarms_api.SubscriptionView.as_view(), name="alarm-subscription"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
