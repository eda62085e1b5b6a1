"""Input refused at the edge, with a 400 and its reason, before it can reach the database as a 500.

- NUL bytes in a query parameter or the path (PostgreSQL refuses them in text; forms and serializers
  already refuse them in bodies);
- ids longer than a bigint in a URL (the `id` path converter and the API's lookup pattern);
- page sizes and offsets beyond any real list (BoundedPagination);
- login names longer than any account's (django-axes records the name it was given).
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

ID_REGEX = "[0-9]{1,18}"  # any bigint id, never one PostgreSQL would refuse
MAX_OFFSET = 2**31


def parse_id(value: str | None) -> int | None:
    """`value` as a database id, or None: ASCII digits only ("²" and "٣" are digits to str.isdigit
    but not to int() or PostgreSQL) and within a bigint."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class RefuseNulBytesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values
        ):
            return HttpResponseBadRequest(_("A parameter contains a NUL character, which is not allowed."))
        return self.get_response(request)


class BoundedPagination(LimitOffsetPagination):
    """Limit and offset as documented: whole numbers (else a 400 with the reason), the limit at most
    500, the offset within what a database can skip."""

    max_limit = 500
    known_count = None  # set by a view that knows how many rows it lists (no COUNT query)

    def get_count(self, queryset: Any) -> int:
        return super().get_count(queryset) if self.known_count is None else self.known_count

    def _checked(self, request: Request, name: str) -> None:
        value = request.query_params.get(name)
        if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 30):
            raise ValidationError({name: [_("Enter a whole number of 0 or more.")]})

    def get_limit(self, request: Request) -> int | None:
        self._checked(request, self.limit_query_param)
        return super().get_limit(request)

    def get_offset(self, request: Request) -> int:
        self._checked(request, self.offset_query_param)
        return min(super().get_offset(request), MAX_OFFSET)


def client_address(request: HttpRequest) -> str | None:
    """The client's address: behind TRUSTED_PROXY_COUNT reverse proxies (Caddy in the stack), each of
    which appends the address it saw to X-Forwarded-For (Caddy replaces what an untrusted client
    sent), the client is that many entries from the right; without a proxy, the peer itself. A
    client cannot pass itself off as another address, and the proxy's own address is never taken
    for every user's (which let ten wrong passwords lock everyone out)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The login name django-axes records, cut to what a login can be (its column is 255 long)."""
    name = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(name)[:150]
