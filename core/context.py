"""What every page may show whatever the view: the distributor's hotline, the theme colour."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def hotline(request: HttpRequest) -> dict[str, Any]:
    """The hotline's contact details (settings.HOTLINE), wherever a page says to call it."""
    return {"hotline": settings.HOTLINE}


# The icons' blue (static/img/favicon.svg): the phone's bar colour, in every page's head and the
# web app manifest.
THEME_COLOUR = "#0b5394"


def theme(request: HttpRequest) -> dict[str, Any]:
    return {"theme_colour": THEME_COLOUR}
