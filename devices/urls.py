from django.urls import path

from . import views

app_name = "devices"
urlpatterns = [
    path("inverters/<id:pk>/", views.inverter_detail, name="inverter"),
    path("inverters/<id:pk>/settings/", views.inverter_settings, name="settings"),
    path("inverters/<id:pk>/live/", views.inverter_live, name="live"),
    path("inverters/<id:pk>/live/values/", views.inverter_live_values, name="live_values"),
    path("inverters/<id:pk>/settings/read/", views.inverter_settings_read, name="settings_read"),
    path("inverters/<id:pk>/settings/write/", views.inverter_settings_write, name="settings_write"),
    path("inverters/<id:pk>/settings/changes/", views.inverter_setting_changes, name="setting_changes"),
    path(
        "inverters/<id:pk>/replacement/<str:decision>/",
        views.inverter_replacement,
        name="replacement",
    ),
]
