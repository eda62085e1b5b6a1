from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Accounts")

    def ready(self):
        from . import signals  # noqa: F401, PLC0415 (connects the receivers once the models exist)
