"""Every app serves pages in a plant's URL space (/plants/<id>/…) under the one "plants" namespace,
composed by portal.urls: these are the plant's own; monitoring.urls and devices.urls add theirs."""

from django.urls import path

from . import views

urlpatterns = [
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("new/", views.plant_create, name="create"),
    path("pick/", views.plant_pick, name="pick"),
    path("time-zones/", views.time_zones, name="time_zones"),
    path("<id:pk>/edit/", views.plant_edit, name="edit"),
    path("<id:pk>/about/", views.plant_about, name="about"),
    path("<id:pk>/photos/<id:photo_pk>/<str:variant>.jpg", views.photo_file, name="photo"),
    path("<id:pk>/photos/<id:photo_pk>/delete/", views.photo_delete, name="photo_delete"),
    path("<id:pk>/customers/", views.grants, name="grants"),
    path("<id:pk>/customers/check/", views.grant_check, name="grant_check"),
    path("<id:pk>/customers/transfer/", views.plant_transfer, name="transfer"),
    path("<id:pk>/customers/<id:grant_pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("<id:pk>/delete/", views.plant_archive, name="archive"),
    path("<id:pk>/subcontractors/", views.plant_accesses, name="accesses"),
    path("<id:pk>/subcontractors/<id:access_pk>/end/", views.plant_access_end, name="access_end"),
    path("team/<id:member_pk>/", views.member_plants, name="member_plants"),
]
