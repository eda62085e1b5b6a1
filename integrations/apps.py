from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """What other tools use the portal through: API tokens with scopes and quotas. It restricts through
    the domain apps' querysets, so it sits above them (beside monitoring)."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from . import schema  # noqa: F401, PLC0415  the OpenAPI extension registers itself on import
