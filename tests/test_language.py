"""The pages' language: French by default, English when asked or when the browser prefers it."""

from django.urls import reverse


def test_pages_are_in_french_by_default(client, db):
    response = client.get(reverse("login"))
    assert '<html lang="fr">' in response.content.decode()
    assert "Mot de passe oublié ?" in response.content.decode()


def test_pages_are_in_english_when_asked(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    response = client.get(reverse("login"))
    assert '<html lang="en">' in response.content.decode()
    assert "Forgotten password?" in response.content.decode()


def test_browser_language_english_is_honoured(client, db):
    response = client.get(reverse("account_request"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Request a pro account" in response.content.decode()
