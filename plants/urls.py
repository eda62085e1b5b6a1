from django.urls import path

from . import views

app_name = "plants"
urlpatterns = [
    path("", views.plant_list, name="list"),
    path("new/", views.plant_create, name="create"),
    path("<int:pk>/", views.plant_detail, name="detail"),
    path("<int:pk>/edit/", views.plant_edit, name="edit"),
    path("<int:pk>/about/", views.plant_about, name="about"),
    path("<int:pk>/photos/<int:photo_pk>/<str:variant>.jpg", views.photo_file, name="photo"),
    path("<int:pk>/photos/<int:photo_pk>/delete/", views.photo_delete, name="photo_delete"),
    path("<int:pk>/commission/<str:step>/", views.commission, name="commission"),
    path("<int:pk>/dataloggers/<int:logger_pk>/move/", views.datalogger_move, name="datalogger_move"),
    path("<int:pk>/dataloggers/<int:logger_pk>/remove/", views.datalogger_remove, name="datalogger_remove"),
    path("<int:pk>/customers/", views.grants, name="grants"),
    path("<int:pk>/customers/check/", views.grant_check, name="grant_check"),
    path("<int:pk>/customers/<int:grant_pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("<int:pk>/delete/", views.plant_archive, name="archive"),
]
