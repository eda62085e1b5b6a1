import re

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Company, ProAccountRequest, User

from .conftest import login
from .factories import api_token


@pytest.fixture
def pending(db):
    return ProAccountRequest.objects.create(
        company_name="Élec Breizh",
        address="8 rue du Port",
        mobile_phone="0698765432",
        email="contact@elecbreizh.fr",
        login="elecbreizh",
        agency="Téréva Brest",
        customer_account_number="C42424",
    )


def test_anonymous_is_sent_to_login(client, pending):
    for url in (reverse("account_requests"), reverse("account_request_detail", args=[pending.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_an_installer_is_refused_in_pages_and_api(installer, pending):
    client = login(installer)
    assert client.get(reverse("account_requests")).status_code == 403
    assert (
        client.post(reverse("account_request_detail", args=[pending.pk]), {"approve": "1"}).status_code == 403
    )
    api = APIClient()
    api.force_authenticate(installer)
    assert api.get("/api/v1/account-requests/").status_code == 403
    assert api.post(f"/api/v1/account-requests/{pending.pk}/approve/").status_code == 403
    assert api.get("/api/v1/companies/").status_code == 403
    pending.refresh_from_db()
    assert pending.status == ProAccountRequest.Status.PENDING


def test_anonymous_api_is_refused(pending):
    assert APIClient().get("/api/v1/account-requests/").status_code in (401, 403)


def test_the_admin_sees_pending_requests(admin_user, pending):
    response = login(admin_user).get(reverse("account_requests"))
    assert "Élec Breizh" in response.content.decode()


def test_approval_creates_one_company_and_one_installer_who_sets_a_password_and_logs_in(
    admin_user, pending, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).post(
            reverse("account_request_detail", args=[pending.pk]), {"approve": "1"}
        )
    assert response.status_code == 302
    assert Company.objects.count() == 1
    installer = User.objects.get(username="elecbreizh")
    assert installer.is_installer and installer.company.name == "Élec Breizh"
    assert not installer.has_usable_password()
    (message,) = mail.outbox
    assert message.to == ["contact@elecbreizh.fr"]
    link = re.search(r"https?://\S+/password-reset/\S+/", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "Panneau-Solaire-2026", "new_password2": "Panneau-Solaire-2026"},
    )
    assert response.status_code == 302
    response = client.post(reverse("login"), {"username": "elecbreizh", "password": "Panneau-Solaire-2026"})
    assert response.status_code == 302 and response.wsgi_request.user.username == "elecbreizh"


def test_approving_twice_creates_nothing_more(admin_user, pending):
    services.account_request_approve(request_obj=pending, by=admin_user)
    response = login(admin_user).post(reverse("account_request_detail", args=[pending.pk]), {"approve": "1"})
    assert "déjà été traitée" in response.content.decode()
    assert Company.objects.count() == 1


def test_rejection_emails_the_reason(admin_user, pending, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login(admin_user).post(
            reverse("account_request_detail", args=[pending.pk]),
            {"reject": "1", "reason": "Numéro de compte client inconnu."},
        )
    pending.refresh_from_db()
    assert pending.status == ProAccountRequest.Status.REJECTED
    (message,) = mail.outbox
    assert "Numéro de compte client inconnu." in message.body
    assert Company.objects.count() == 0


def test_api_approval_by_the_admin(admin_user, pending):
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post(f"/api/v1/account-requests/{pending.pk}/approve/")
    assert response.status_code == 201
    assert response.json()["name"] == "Élec Breizh"


def test_a_deactivated_companys_installers_cannot_log_in(admin_user, installer, client):
    session_client = login(installer)
    token = api_token(installer)
    login(admin_user).post(reverse("company_set_active", args=[installer.company.pk]), {"active": "0"})
    response = client.post(
        reverse("login"), {"username": installer.username, "password": "correct-horse-battery-9"}
    )
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    # An open session ends too, and so does API access by token.
    assert session_client.get(reverse("plants:list")).status_code == 302
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/me/").status_code in (401, 403)
    assert User.objects.filter(pk=installer.pk).exists()


def test_an_installer_cannot_deactivate_a_company(installer):
    response = login(installer).post(
        reverse("company_set_active", args=[installer.company.pk]), {"active": "0"}
    )
    assert response.status_code == 403
    installer.company.refresh_from_db()
    assert installer.company.is_active
