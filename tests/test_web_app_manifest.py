"""The web app manifest: what a phone needs to keep the portal on its home screen."""

import json

from django.contrib.staticfiles import finders
from django.test import Client
from PIL import Image

from .conftest import login, text


def test_the_manifest_names_the_portal_in_the_visitors_language_with_its_icons(db):
    response = Client(HTTP_ACCEPT_LANGUAGE="fr").get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Portail installateur AURA" and manifest["short_name"] == "AURA"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        width, height = Image.open(path).size
        assert icon["sizes"] == f"{width}x{height}"  # the file is the size the manifest says

    english = json.loads(Client(HTTP_ACCEPT_LANGUAGE="en").get("/manifest.webmanifest").content)
    assert english["name"] == "AURA installer portal"


def test_every_page_links_the_manifest_the_icons_and_the_theme_colour(installer):
    page = text(login(installer).get("/plants/"))
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'rel="apple-touch-icon" href="/static/img/apple-touch-icon.png"' in page
    assert '<meta name="theme-color" content="#0b5394">' in page
    assert 'rel="icon" href="/static/img/favicon.svg"' in page
