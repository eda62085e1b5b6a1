"""Messages stored for later readers, as a code with parameters, rendered in the reader's language.

A setting change's outcome or a logger's last error is read later by someone else, maybe in another
language: a stored sentence froze the language of whoever caused it (the worker's French on English
pages). Each module names its texts once (`define`), stores `Message(code, params)` in a
`MessageField`, and pages and the API render `str(message)` in the request's language.

A parameter may be a message itself ({"code", "params"}: rendered too) or a setting's value
({"setting": key, "value": v}: shown as the register map displays it, e.g. a working mode's name).
"""

from dataclasses import dataclass, field

from django.db import models
from django.utils.formats import number_format

from .registermap import BY_KEY

TEXTS = {}
# Rows written before codes existed keep their sentence: a message of this code shows it as it is.
VERBATIM = "verbatim"


def define(code, text):
    """Name `text` (a lazy translation) as `code`; returns the code."""
    TEXTS[code] = text
    return code


@dataclass(frozen=True)
class Message:
    code: str
    params: dict = field(default_factory=dict)

    def __str__(self):
        text = TEXTS.get(self.code)
        if text is None:
            return str(self.params.get("text", ""))
        if not self.params:
            return str(text)
        try:
            return str(text) % {name: _rendered(value) for name, value in self.params.items()}
        except (KeyError, TypeError, ValueError):  # a text changed since the row was stored
            return str(text)

    def __bool__(self):
        return bool(self.code)

    def as_json(self):
        return {"code": self.code, "params": self.params}


def _rendered(value):
    if isinstance(value, dict) and "code" in value:
        return str(Message(value["code"], value.get("params") or {}))
    if isinstance(value, dict) and "setting" in value:
        register = BY_KEY.get(value["setting"])
        return register.display(value.get("value")) if register else value.get("value")
    if isinstance(value, float):  # a measured value: in the reader's number format (12,5 in French)
        return number_format(int(value) if value.is_integer() else value)
    return value


class MessageField(models.JSONField):
    """A Message in a JSON column ({"code", "params"}); None when there is none. Never a sentence
    (docs/architecture/invariants.md)."""

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        return self.to_python(value)

    def to_python(self, value):
        if value is None or isinstance(value, Message):
            return value
        if isinstance(value, dict):
            return Message(value.get("code", ""), value.get("params") or {})
        return Message(VERBATIM, {"text": str(value)})

    def get_prep_value(self, value):
        if isinstance(value, Message):
            value = value.as_json() if value else None
        return super().get_prep_value(value)
