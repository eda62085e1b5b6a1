from django.urls import reverse

from accounts.models import User

from .conftest import login


def test_an_installer_invites_a_colleague_into_the_same_company(
    installer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(installer).post(reverse("team"), {"email": "lea@soleil.fr", "username": "lea"})
    assert response.status_code == 302
    lea = User.objects.get(username="lea")
    assert lea.company == installer.company and lea.is_installer and lea.company_role == "technician"
    assert "/password-reset/" in mailoutbox[0].body


def test_a_bad_colleague_login_is_refused(installer):
    response = login(installer).post(reverse("team"), {"email": "lea@soleil.fr", "username": "léa b"})
    assert response.status_code == 200
    assert not User.objects.filter(email="lea@soleil.fr").exists()


def test_a_customer_cannot_invite(customer):
    assert login(customer).get(reverse("team")).status_code == 403
