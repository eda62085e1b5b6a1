from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package (settings, URLs, Celery, WSGI): an app only for its management commands
    (healthcheck, backup, restore, seed_demo). Its label is not "portal", which the accounts app keeps."""

    name = "portal"
    label = "project"
