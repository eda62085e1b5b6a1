from django.apps import AppConfig
from django.urls import register_converter


class CoreConfig(AppConfig):
    """An app for its template tags (units) and the `<id:…>` URL converter every app's URLs use."""

    name = "core"

    def ready(self) -> None:
        from .edge import IdConverter  # noqa: PLC0415 (settings are loaded by now)

        register_converter(IdConverter, "id")
