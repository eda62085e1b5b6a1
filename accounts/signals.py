"""Login failures and lockouts among the distributor admin's security events, one row per login and
hour (SecurityEvent.repeated): enough to see a password being guessed or sprayed, never a row per try."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from core.edge import axes_username, client_address

from .models import SecurityEvent


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    login = axes_username(request, credentials)
    SecurityEvent.repeated(
        SecurityEvent.Kind.LOGIN_FAILED,
        subject=login,
        address=client_address(request),
        describe=lambda event: (
            f"login {login!r}: {event.count} failed attempt(s) from {', '.join(event.addresses)}"
        ),
    )


@receiver(user_locked_out)
def locked_out(sender, request, username, ip_address, **kwargs):
    SecurityEvent.repeated(
        SecurityEvent.Kind.LOCKED_OUT,
        subject=username or ip_address,
        address=ip_address,
        describe=lambda event: f"login {username!r} locked out from {', '.join(event.addresses)}",
    )
