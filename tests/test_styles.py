"""The stylesheets: inline on a first visit (one round trip fewer before a weak line's first paint),
under the response's CSP nonce; linked once the browser holds them (the `styles` cookie, set by
portal.js after it has fetched them)."""

import re

import pytest
from django.urls import reverse

from core.context import STYLES_COOKIE

from .browser import BROWSER, log_in
from .conftest import login


def styles_of(response):
    body = response.content.decode()
    inline = re.search(r'<style nonce="([^"]+)">', body)
    return {
        "nonce": inline.group(1) if inline else None,
        "linked": re.findall(r'<link rel="stylesheet" href="([^"]+)">', body),
        "version": (re.search(r'data-styles="([^"]+)"', body) or [None, None])[1],
        "files": (re.search(r'data-stylesheets="([^"]+)"', body) or [None, ""])[1].split(),
        "csp": response.headers["Content-Security-Policy"],
    }


def test_a_first_visit_gets_the_stylesheets_inline_under_the_pages_nonce(client):
    page = styles_of(client.get(reverse("login")))
    assert page["nonce"] and f"style-src 'self' 'nonce-{page['nonce']}'" in page["csp"]
    assert page["linked"] == [] and page["files"] == ["/static/vendor/pico.min.css", "/static/css/portal.css"]
    assert "--pico-font-family" in client.get(reverse("login")).content.decode()  # Pico's own text


def test_a_browser_holding_these_stylesheets_gets_them_linked(installer):
    client = login(installer)
    version = styles_of(client.get(reverse("plants:list")))["version"]
    client.cookies[STYLES_COOKIE] = version
    page = styles_of(client.get(reverse("plants:list")))
    assert page["nonce"] is None and page["version"] is None
    assert page["linked"] == ["/static/vendor/pico.min.css", "/static/css/portal.css"]


def test_a_cookie_of_other_stylesheets_gets_them_inline_again(client):
    """After a deploy that changed them (their hashed URLs, so their version), or a forged cookie."""
    client.cookies[STYLES_COOKIE] = "0123456789abcdef"
    assert styles_of(client.get(reverse("login")))["nonce"]


@BROWSER
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_next_page_links_the_stylesheets_from_its_cache(
    live_server, browser_page, installer
):
    page, base = browser_page, live_server.url
    page.goto(f"{base}/login/")
    assert page.locator("style[nonce]").count() == 1 and page.locator("link[rel=stylesheet]").count() == 0
    page.wait_for_function("() => document.cookie.includes('styles=')")
    log_in(page, base, "paul")
    page.goto(f"{base}/plants/")
    assert page.locator("style[nonce]").count() == 0 and page.locator("link[rel=stylesheet]").count() == 2
    fetched = page.evaluate(
        "() => performance.getEntriesByType('resource').filter((r) => r.initiatorType === 'link')"
        ".map((r) => [r.name.split('/static/')[1], r.transferSize])"
    )
    assert fetched == [["vendor/pico.min.css", 0], ["css/portal.css", 0]]  # from the cache
    # Styled by them: Pico's font and the portal's badge colours.
    assert "system-ui" in page.evaluate("() => getComputedStyle(document.body).fontFamily")
