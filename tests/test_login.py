from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from accounts.models import SecurityEvent

from .conftest import PASSWORD


def post_login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_ten_wrong_passwords_lock_the_login_until_the_lock_ends(client, installer):
    for _ in range(10):
        post_login(client, installer.username, "wrong-password")
    response = post_login(client, installer.username, PASSWORD)
    assert response.status_code == 429
    assert "verrouill" in response.content.decode().lower()
    assert not response.wsgi_request.user.is_authenticated
    # The lock ends after the cool-off period: then the right password is accepted again.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(hours=1))
    response = post_login(client, installer.username, PASSWORD)
    assert response.status_code == 302


def test_nine_wrong_passwords_do_not_lock(client, installer):
    for _ in range(9):
        post_login(client, installer.username, "wrong-password")
    assert post_login(client, installer.username, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "fixture, landing",
    [
        ("admin_user", "/pro-account/requests/"),
        ("installer", None),  # the fleet home itself
        ("customer", "/plants/"),  # no plant yet: the (empty) list of their plants
    ],
)
def test_each_role_lands_on_its_page(client, request, fixture, landing):
    user = request.getfixturevalue(fixture)
    response = post_login(client, user.username, PASSWORD)
    assert response.status_code == 302
    home = client.get(response.url)
    if landing is None:
        assert home.status_code == 200 and home.templates[0].name == "plants/fleet.html"
    else:
        assert home.url == landing


def test_password_reset_sends_a_link(client, installer, mailoutbox):
    client.post(reverse("password_reset"), {"email": installer.email})
    assert len(mailoutbox) == 1
    assert "/password-reset/" in mailoutbox[0].body


def test_behind_the_proxy_one_client_cannot_lock_out_another(client, installer, settings):
    """Behind Caddy every request comes from its address: the client's is X-Forwarded-For's."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxied = {"REMOTE_ADDR": "172.18.0.5"}
    for _ in range(10):
        client.post(reverse("login"), {"username": installer.username, "password": "wrong"},
                    HTTP_X_FORWARDED_FOR="198.51.100.7", **proxied)  # fmt: skip
    elsewhere = client.post(reverse("login"), {"username": installer.username, "password": PASSWORD},
                            HTTP_X_FORWARDED_FOR="203.0.113.9", **proxied)  # fmt: skip
    assert elsewhere.status_code == 302  # the real user, from their own address


def test_an_address_spraying_many_logins_is_locked(client, db):
    for attempt in range(10):
        post_login(client, f"user{attempt}", "wrong-password")  # one try each: no login reaches ten
    assert post_login(client, "user99", "wrong-password").status_code == 429
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT).exists()


def test_login_failures_are_security_events_one_row_per_login_and_hour(client, installer):
    for _ in range(3):
        post_login(client, installer.username, "wrong-password")
    post_login(client, "ghost", "wrong-password")
    events = {e.subject: e for e in SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED)}
    assert set(events) == {installer.username, "ghost"}
    assert events[installer.username].count == 3 and events[installer.username].addresses == ["127.0.0.1"]
