from django.urls import path

from . import views

app_name = "devices"
urlpatterns = [
    path("inverters/<id:pk>/", views.inverter_detail, name="inverter"),
]
