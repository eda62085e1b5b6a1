"""Validators shared by several models."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_single_line(value: str | None) -> None:
    """A name is one line: a line break or a control character would break e-mail subjects and CSV rows."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value or ""):
        raise ValidationError(
            _("Use a single line, without line breaks or control characters."), code="single_line"
        )


def validate_phone_number(value: str) -> None:
    """A real phone number (French when no country code is given), as phonenumbers knows them."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid phone number, for example 06 12 34 56 78 or +33 6 12 34 56 78."), code="phone"
        )
