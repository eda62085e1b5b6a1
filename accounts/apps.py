from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Users, installer companies, pro-account requests, the team, security events.

    The label stays "portal", the package these models were born in: the tables (portal_user…),
    the migration history, the content types and AUTH_USER_MODEL ("portal.User") of every existing
    database keep their names (docs/architecture/invariants.md)."""

    name = "accounts"
    label = "portal"
    verbose_name = _("Accounts")

    def ready(self):
        from . import signals  # noqa: F401, PLC0415 (connects the receivers once the models exist)
