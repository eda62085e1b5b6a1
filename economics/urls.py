from django.urls import path

from . import views

app_name = "economics"
urlpatterns = [
    path("plants/<id:pk>/savings/", views.savings, name="savings"),
    path("plants/<id:pk>/savings.csv", views.savings_csv, name="savings_csv"),
    path("plants/<id:pk>/tariffs/", views.tariffs, name="tariffs"),
    path(
        "plants/<id:pk>/reports/<str:month>.pdf",
        views.monthly_report,
        name="monthly_report",
    ),
    path("plants/<id:pk>/tariffs/<id:tariff_pk>/delete/", views.tariff_delete, name="tariff_delete"),
    path("plants/<id:pk>/grid-charging/", views.charge_schedule, name="charge_schedule"),
    path("tempo/", views.tempo, name="tempo"),
    path("fleet-reports/<str:month>.pdf", views.fleet_report, name="fleet_report"),
]
