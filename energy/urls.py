from django.urls import path

from . import views

app_name = "energy"
urlpatterns = [
    path("<id:pk>/energy.csv", views.daily_csv, name="daily_csv"),
    path("<id:pk>/battery/", views.battery_health, name="battery"),
    path("<id:pk>/readings.csv", views.readings_csv, name="readings_csv"),
    path("<id:pk>/readings-exports/<id:export_pk>/", views.readings_export, name="readings_export"),
    path(
        "<id:pk>/readings-exports/<id:export_pk>/download/",
        views.readings_export_download,
        name="readings_export_download",
    ),
]
