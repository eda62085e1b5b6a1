from django import forms
from django.utils.translation import gettext_lazy as _

from plants.forms import PlantPicker
from plants.models import Plant

from .models import Datalogger


class DataloggerForm(forms.ModelForm):
    """Attach a logger: the model's own validation (Datalogger.clean) refuses what the API refuses."""

    # Longer than an SN, so that a mistyped one gets the SN's own message rather than a length's.
    serial_number = forms.CharField(
        label=_("Serial number (SN)"),
        max_length=40,
        help_text=_("10 digits, printed on the stick and on its box. The stick's hotspot is AP_<SN>."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "data-scan-target": "1"}
        ),
    )

    class Meta:
        model = Datalogger
        fields = ["serial_number", "reach", "protocol", "host", "port", "unit_id"]
        labels = {"host": _("Address (IP or host name)")}
        # Address, port and protocol only matter for a direct logger (portal.js hides them otherwise).
        widgets = {
            "reach": forms.RadioSelect,
            **{name: forms.TextInput(attrs={"data-direct-only": "1"}) for name in ("host",)},
            "port": forms.NumberInput(attrs={"data-direct-only": "1"}),
            "unit_id": forms.NumberInput(attrs={"data-direct-only": "1"}),
            "protocol": forms.Select(attrs={"data-direct-only": "1"}),
        }

    def clean_serial_number(self):
        return self.cleaned_data["serial_number"].strip()

    def validate_unique(self):
        """An SN already attached is refused by the service, in words that leak no other plant."""


class MoveDataloggerForm(forms.Form):
    to_plant = forms.ModelChoiceField(
        label=_("Move to plant"), queryset=Plant.objects.none(), widget=PlantPicker()
    )

    def __init__(self, *args, plants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_plant"].queryset = plants


class FirmwareNoteForm(forms.Form):
    firmware_arm = forms.CharField(max_length=16, required=False, widget=forms.HiddenInput)
    firmware_dsp = forms.CharField(max_length=16, required=False, widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
