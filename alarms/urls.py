from django.urls import path

from . import views

app_name = "alarms"
urlpatterns = [
    path("", views.alarm_list, name="list"),
    path("export.csv", views.alarm_export, name="export"),
    path("<id:pk>/", views.alarm_detail, name="detail"),
    path("<id:pk>/acknowledge/", views.alarm_acknowledge, name="acknowledge"),
    path("<id:pk>/incident/", views.alarm_incident, name="incident"),
    path("<id:pk>/notes/", views.alarm_note, name="note"),
    path("codes/", views.catalogue, name="catalogue"),
    path("rules/", views.alarm_rules, name="rules"),
    path("my-emails/", views.my_alarm_emails, name="my_emails"),
    path("rules/<id:pk>/delete/", views.alarm_rule_delete, name="rule_delete"),
    path("plants/<id:pk>/maintenance/", views.maintenance, name="maintenance"),
    path("plants/<id:pk>/maintenance/<id:window_pk>/end/", views.maintenance_end, name="maintenance_end"),
    path("help/wifi-stick/", views.stick_leds, name="stick_leds"),
    path("help/battery/", views.battery_leds, name="battery_leds"),
]
