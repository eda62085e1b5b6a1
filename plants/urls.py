from django.urls import path

from . import views

app_name = "plants"
urlpatterns = [
    path("", views.plant_list, name="list"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("new/", views.plant_create, name="create"),
    path("<id:pk>/", views.plant_detail, name="detail"),
    path("<id:pk>/live/", views.plant_live, name="live"),
    path("<id:pk>/edit/", views.plant_edit, name="edit"),
    path("<id:pk>/about/", views.plant_about, name="about"),
    path("<id:pk>/settings-log/", views.settings_log, name="settings_log"),
    path("<id:pk>/photos/<id:photo_pk>/<str:variant>.jpg", views.photo_file, name="photo"),
    path("<id:pk>/photos/<id:photo_pk>/delete/", views.photo_delete, name="photo_delete"),
    path("<id:pk>/commission/<str:step>/", views.commission, name="commission"),
    path("<id:pk>/dataloggers/<id:logger_pk>/move/", views.datalogger_move, name="datalogger_move"),
    path("<id:pk>/dataloggers/<id:logger_pk>/remove/", views.datalogger_remove, name="datalogger_remove"),
    path("<id:pk>/dataloggers/<id:logger_pk>/called-in/", views.datalogger_called_in, name="called_in"),
    path("<id:pk>/customers/", views.grants, name="grants"),
    path("<id:pk>/customers/check/", views.grant_check, name="grant_check"),
    path("<id:pk>/customers/transfer/", views.plant_transfer, name="transfer"),
    path(
        "<id:pk>/inverters/<id:inverter_pk>/battery/confirm/", views.battery_confirm, name="battery_confirm"
    ),
    path("<id:pk>/customers/<id:grant_pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("<id:pk>/delete/", views.plant_archive, name="archive"),
]
