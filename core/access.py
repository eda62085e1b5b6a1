"""Who may open a page: one decorator per role, used by every view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .scoping import MANAGE, READ, SAFE_METHODS

if TYPE_CHECKING:  # rest_framework.views reads the settings that name this module's permissions
    from rest_framework.views import APIView


def role_required(
    *checks: str, writes: str | None = None
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Anonymous users go to the login page; a logged-in user of another role gets 403, and so does
    one who lacks the `writes` check for anything but reading (an installer company's viewer)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(getattr(request.user, check) for check in checks):
                raise PermissionDenied
            if writes and request.method not in SAFE_METHODS and not getattr(request.user, writes):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


distributor_admin_required = role_required("is_distributor_admin")
installer_required = role_required("is_installer", writes="may_change")
company_member_required = role_required("is_installer")
# What applies to all the company's plants (alarm rules): changed by members who see them all.
company_settings_required = role_required(
    "is_installer", writes="may_change_company_settings"
)  # a member's own settings, viewers included
company_administrator_required = role_required("is_company_administrator")
customer_required = role_required("is_customer")


class IsDistributorAdmin(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_distributor_admin)


class IsInstaller(BasePermission):
    """Installers; a viewer of their company only reads."""

    writes = "may_change"  # what an installer must be to do more than read

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_installer):
            return False
        return request.method in SAFE_METHODS or bool(getattr(user, self.writes))


class IsCompanySettings(IsInstaller):
    """Installers read what applies to all the company's plants; members who change plants and see
    them all change it."""

    writes = "may_change_company_settings"


class IsCompanyMember(BasePermission):
    """Installers of any role: a member's own settings (their alarm e-mails)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_installer)


class IsInstallerOrReadOnly(BasePermission):
    """Everyone who may see an object may read it; only installers (of its company, not viewers)
    change it."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or request.user.may_change


def token_scope_required(request: Request, view: APIView) -> str:
    by_action = getattr(view, "token_scopes", {})
    action = getattr(view, "action", None)
    if action in by_action:
        return by_action[action]
    if request.method in SAFE_METHODS:
        return READ
    return getattr(view, "token_scope", MANAGE)


class TokenScope(BasePermission):
    """A request made with an API token needs the scope its view declares (core.scoping's token
    scopes; 403 otherwise); a request of a logged-in session is not narrowed. First in every API
    view's permissions (a test checks)."""

    message = _("This API token's scopes do not allow this.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        scopes = getattr(request.auth, "scopes", None)
        return scopes is None or token_scope_required(request, view) in scopes
