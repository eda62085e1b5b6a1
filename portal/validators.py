"""Validators shared by several models."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_single_line(value):
    """A name is one line: a line break or a control character would break e-mail subjects and CSV rows."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value or ""):
        raise ValidationError(
            _("Use a single line, without line breaks or control characters."), code="single_line"
        )
