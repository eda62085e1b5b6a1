"""The settings form, generated from the register map's writable entries (never written per setting)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .registermap import BY_KEY, SETTING_GROUP_LABELS, SETTINGS, Group, Kind


def _field(register, current):
    setting = register.setting
    label = f"{register.label}" + (f" ({register.unit})" if register.unit else "")
    common = {"label": label, "required": False, "initial": current}
    if register.choices:
        return forms.TypedChoiceField(coerce=int, choices=[("", "—"), *register.choices.items()], **common)
    if register.kind == Kind.HHMM:
        return forms.RegexField(
            regex=r"^([01]\d|2[0-3]):[0-5]\d$",
            widget=forms.TimeInput(attrs={"type": "time"}),
            error_messages={"invalid": _("Enter a time as HH:MM.")},
            **common,
        )
    return forms.IntegerField(min_value=setting.minimum, max_value=setting.maximum, **common)


class SettingsForm(forms.Form):
    """One field per writable setting, grouped as the map groups them; `current` are the values read."""

    def __init__(self, *args, current, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = current
        for register in SETTINGS:
            if register.writable and register.group != Group.COMMAND:
                self.fields[register.key] = _field(register, current.get(register.key))
            elif register.writable:  # a command (restart): a box to tick, confirmed before it is sent
                self.fields[register.key] = forms.BooleanField(label=register.label, required=False)
            if register.writable:
                self.fields[register.key].group = SETTING_GROUP_LABELS[register.setting.group]

    def changes(self):
        """{key: new value} for the fields whose value differs from the one read."""
        changes = {}
        for key, value in self.cleaned_data.items():
            if isinstance(value, bool):
                if value:
                    changes[key] = next(iter(BY_KEY[key].choices))  # the command's one value (restart: 1)
            elif value not in (None, "") and value != self.current.get(key):
                changes[key] = value
        return changes
