"""What every page may show whatever the view: the distributor's hotline."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def hotline(request: HttpRequest) -> dict[str, Any]:
    """The hotline's contact details (settings.HOTLINE), wherever a page says to call it."""
    return {"hotline": settings.HOTLINE}
