from django.urls import path

from . import views

urlpatterns = [
    path("preferences/my-data/", views.my_data, name="my_data"),
    path("preferences/my-data/<str:token>.zip", views.my_data_download, name="my_data_download"),
    path("preferences/erase/", views.erase_account, name="erase_account"),
]
