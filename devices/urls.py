from django.urls import path

from . import job_views, views

app_name = "devices"
urlpatterns = [
    path("firmware/", views.firmware_inventory, name="firmware"),
    path("firmware/note/", views.firmware_note, name="firmware_note"),
    path("settings-jobs/", job_views.settings_jobs, name="settings_jobs"),
    path("settings-jobs/new/", job_views.settings_job_new, name="settings_job_new"),
    path("settings-jobs/<id:pk>/", job_views.settings_job, name="settings_job"),
    path("settings-jobs/<id:pk>/run/", job_views.settings_job_run, name="settings_job_run"),
    path("settings-jobs/<id:pk>/cancel/", job_views.settings_job_cancel, name="settings_job_cancel"),
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

# In the plants namespace (portal.urls): a plant's loggers and its commissioning.
plant_urlpatterns = [
    path("<id:pk>/settings-log/", views.settings_log, name="settings_log"),
    path("<id:pk>/commission/<str:step>/", views.commission, name="commission"),
    path("<id:pk>/dataloggers/<id:logger_pk>/move/", views.datalogger_move, name="datalogger_move"),
    path("<id:pk>/dataloggers/<id:logger_pk>/remove/", views.datalogger_remove, name="datalogger_remove"),
    path("<id:pk>/dataloggers/<id:logger_pk>/called-in/", views.datalogger_called_in, name="called_in"),
    path(
        "<id:pk>/inverters/<id:inverter_pk>/battery/confirm/", views.battery_confirm, name="battery_confirm"
    ),
]
