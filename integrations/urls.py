from django.urls import path

from . import views

urlpatterns = [
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<id:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<id:pk>/", views.webhook, name="webhook"),
    path("webhooks/<id:pk>/test/", views.webhook_test, name="webhook_test"),
    path("webhooks/<id:pk>/enable/", views.webhook_enable, name="webhook_enable"),
    path("webhooks/<id:pk>/delete/", views.webhook_delete, name="webhook_delete"),
]
