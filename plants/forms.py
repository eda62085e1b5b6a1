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


PICK_LIMIT = 20  # matches shown per search: the page costs the same in any fleet


class PlantPicker(forms.Widget):
    """A search field for one plant (or several) of the user's, instead of a drop-down of them all:
    htmx asks `plants:pick` for the matches; the picked plants stay checked. Never renders the whole
    fleet (the field's queryset is only used to check the submitted ids)."""

    template_name = "plants/widgets/plant_picker.html"

    def __init__(self, *, multiple=False, attrs=None):
        super().__init__(attrs)
        self.multiple = multiple

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        ids = value if isinstance(value, (list, tuple)) else [value]
        ids = [int(v) for v in ids if str(v).isdigit()][:PICK_LIMIT]
        context["widget"]["multiple"] = self.multiple
        context["widget"]["picked"] = list(Plant.objects.filter(pk__in=ids).only("name", "city"))
        return context

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if self.multiple else data.get(name)

    def value_omitted_from_data(self, data, files, name):
        return name not in data
