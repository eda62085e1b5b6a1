"""Form helpers shared by every app's pages."""

from django import forms
from django.core.exceptions import ValidationError


def add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's refusal (a ValidationError by field) shown on the form that asked for it."""
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)
