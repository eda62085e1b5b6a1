from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AlarmsConfig(AppConfig):
    name = "alarms"
    verbose_name = _("Alarms")

    def ready(self):
        # Modules with models load once the registry is ready.
        from devices import registermap  # noqa: PLC0415

        from . import catalogue, receivers  # noqa: F401, PLC0415 (connects the hooks of devices and plants)
        from .models import sync_catalogue  # noqa: PLC0415

        registermap.BIT_NAMES.update(catalogue.bit_names())  # the inverter page's words for the bit words

        post_migrate.connect(sync_catalogue, sender=self)
