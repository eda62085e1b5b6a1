"""How a request made with an API token is authenticated (`Authorization: Bearer <token>`)."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from core.edge import client_address

from .models import ApiToken, digest_of
from .services import api_token_used

KEYWORDS = (b"bearer", b"token")  # "Token" as DRF's own tokens said, for the tools set up before
MAX_SECRET = 100


class ApiTokenAuthentication(BaseAuthentication):
    """A token unknown, revoked or expired is refused at once (401), as is the token of a deactivated
    account. The user it returns carries `token_plant_ids` when the token is limited to some plants:
    Plant.objects.restrict narrows every queryset to them. Its scopes are checked by
    core.access.TokenScope (request.auth is the token)."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None
        if len(header) != 2 or len(header[1]) > MAX_SECRET:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header: one token expected."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: one token expected.")
            ) from None
        now = timezone.now()
        token = ApiToken.objects.select_related("user__company").filter(digest=digest_of(secret)).first()
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("This API token is unknown, revoked or expired."))
        user = token.user
        if not user.can_log_in:
            raise exceptions.AuthenticationFailed(_("This account is deactivated."))
        user.token_plant_ids = list(token.plants.values_list("pk", flat=True)) or None
        api_token_used(token=token, address=client_address(request._request), now=now)
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
