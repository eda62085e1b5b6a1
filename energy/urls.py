from django.urls import path

from . import views

app_name = "energy"
urlpatterns = [
    path("<id:pk>/energy.csv", views.daily_csv, name="daily_csv"),
    path("<id:pk>/readings.csv", views.readings_csv, name="readings_csv"),
]
