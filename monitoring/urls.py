from django.urls import path

from . import views

# In the plants namespace (portal.urls).
plant_urlpatterns = [
    path("", views.plant_list, name="list"),
    path("filters/", views.saved_filter_create, name="saved_filter_create"),
    path("filters/<id:pk>/delete/", views.saved_filter_delete, name="saved_filter_delete"),
    path("<id:pk>/", views.plant_detail, name="detail"),
    path("<id:pk>/live/", views.plant_live, name="live"),
]
