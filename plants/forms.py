from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Plant


class PlantForm(forms.ModelForm):
    class Meta:
        model = Plant
        fields = [
            "name",
            "address",
            "postcode",
            "city",
            "latitude",
            "longitude",
            "time_zone",
            "pv_power_kwp",
            "system_type",
            "battery_model",
            "grid_code",
            "commissioning_date",
            "tags",
            "notes",
            "customer_notes",
        ]
        widgets = {
            "commissioning_date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "customer_notes": forms.Textarea(attrs={"rows": 3}),
            "system_type": forms.RadioSelect,
        }
        help_texts = {
            "latitude": _(
                "On site, “Use this phone's position” fills both. Without a position, night detection "
                "(and so the offline alarms at dawn and dusk) is approximate."
            ),
        }


class GrantForm(forms.Form):
    email = forms.EmailField(label=_("Customer e-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Initial password (optional)"),
        required=False,
        min_length=8,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to e-mail the customer a link to choose their own password."),
    )


class TransferForm(GrantForm):
    share_history = forms.BooleanField(
        label=_("Share the plant's past data with the new owner"),
        required=False,
        help_text=_("Unticked, the new owner sees nothing from before today."),
    )


class PhotoForm(forms.Form):
    image = forms.FileField(label=_("Photo"), widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
    caption = forms.CharField(label=_("Caption"), max_length=200, required=False)
