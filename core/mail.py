"""E-mails in the recipient's language, rendered from templates/emails/<name>.txt."""

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def send_templated(
    name: str,
    *,
    to: str | list[str],
    context: dict[str, Any],
    language: str = "fr",
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """Render `emails/<name>_subject.txt` and `emails/<name>.txt` and send them to `to`, with the
    (filename, content, MIME type) `attachments`."""
    context = {**context, "portal_url": settings.PORTAL_URL}
    with translation.override(language):
        # Plain text: nothing is HTML-escaped (an apostrophe stays an apostrophe, not &#x27;).
        # One line: a line break (from a plant's name, say) makes the mail library refuse the message.
        subject = " ".join(_plain(f"emails/{name}_subject.txt", context).split())
        body = _plain(f"emails/{name}.txt", context)
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to if isinstance(to, list) else [to])
    for attachment in attachments or []:
        message.attach(*attachment)
    message.send()


def _plain(template_name: str, context: dict[str, Any]) -> str:
    """A plain-text template rendered without HTML escaping."""
    template: Any = get_template(template_name)  # the Django backend's wrapper: its engine's Template
    return template.template.render(Context(context, autoescape=False))


def set_password_url(user: Any) -> str:
    """An absolute, single-use link where `user` chooses a password (Django's reset token)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.PORTAL_URL + path
