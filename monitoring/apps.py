from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self):
        from . import receivers  # noqa: F401, PLC0415 (connects to plants.signals once models exist)
