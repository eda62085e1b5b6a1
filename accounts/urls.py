from django.urls import path

from . import views

# No namespace: these names predate the split of the project package.
urlpatterns = [
    path("pro-account/request/", views.account_request, name="account_request"),
    path("pro-account/request/sent/", views.account_request_sent, name="account_request_sent"),
    path("pro-account/requests/", views.account_requests, name="account_requests"),
    path("pro-account/requests/<id:pk>/", views.account_request_detail, name="account_request_detail"),
    path("companies/", views.companies, name="companies"),
    path("companies/<id:pk>/", views.company_detail, name="company_detail"),
    path("companies/<id:pk>/active/", views.company_set_active, name="company_set_active"),
    path("security-events/", views.security_events, name="security_events"),
    path("team/", views.team, name="team"),
    path("preferences/", views.preferences, name="preferences"),
]
