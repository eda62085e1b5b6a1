from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ActiveTokenAuthentication(TokenAuthentication):
    """Token auth that, like the login, refuses the installers of a deactivated company."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if not user.can_log_in:
            raise exceptions.AuthenticationFailed(_("This account is deactivated."))
        return user, token
