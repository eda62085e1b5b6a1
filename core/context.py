"""What every page may show whatever the view: the distributor's hotline, the theme colour, its
stylesheets."""

import functools
import hashlib
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe


def hotline(request: HttpRequest) -> dict[str, Any]:
    """The hotline's contact details (settings.HOTLINE), wherever a page says to call it."""
    return {"hotline": settings.HOTLINE}


# The icons' blue (static/img/favicon.svg): the phone's bar colour, in every page's head and the
# web app manifest.
THEME_COLOUR = "#0b5394"


def theme(request: HttpRequest) -> dict[str, Any]:
    return {"theme_colour": THEME_COLOUR}


STYLESHEETS = ("vendor/pico.min.css", "css/portal.css")
STYLES_COOKIE = "styles"


def styles(request: HttpRequest) -> dict[str, Any]:
    """The stylesheets, linked once the browser holds them, else in the page itself.

    A first visit on a weak line would wait for the page, then for its stylesheets: two round trips
    before the first paint (1.2 to 1.7 s on Slow 3G). So a browser without the `styles` cookie of
    these very files (their hashed URLs) gets them inline, under the page's CSP nonce; once the page
    has loaded, portal.js fetches the files into the browser's cache and sets the cookie, and the
    next pages link them (docs/benchmarks.md, Slow 3G)."""
    urls = [static(name) for name in STYLESHEETS]
    version = hashlib.sha256(" ".join(urls).encode()).hexdigest()[:16]
    if request.COOKIES.get(STYLES_COOKIE) == version:
        return {"stylesheets": urls}
    return {"stylesheets": urls, "styles_version": version, "inline_styles": stylesheets_text()}


@functools.cache
def stylesheets_text() -> SafeString:
    """The stylesheets' text, read once per process (they change only with a deploy)."""
    text = ""
    for name in STYLESHEETS:
        path = finders.find(name)
        with open(path, encoding="utf-8") as css:  # type: ignore[arg-type]
            text += css.read() + "\n"
    if "</" in text:  # it would end the <style> element early
        raise ValueError("a stylesheet holds '</': it cannot be inlined")
    return mark_safe(text)  # the portal's own vendored files, checked above
