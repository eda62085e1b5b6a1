from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.scoping import ADMINISTER
from core.validators import validate_single_line

from .models import Plant, PlantAccess


class TimeZoneSearch(forms.TextInput):
    """A search field for the time zone instead of a drop-down of the 550 zones (40 kB on every plant
    form): htmx fills its datalist with the zones matching what is typed (plants:time_zones). The
    field still accepts only a known zone. Not from the plant's position: the nearest zone city
    (tzdata's zone.tab) is often another country's near a border (Lyon is nearer Monaco and Zurich
    than Paris), and Europe/Paris, the default, is right for the French market."""

    def __init__(self, attrs=None):
        super().__init__({"list": "time-zone-matches", "autocomplete": "off", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].update(
            {
                "hx-get": reverse("plants:time_zones"),
                "hx-trigger": "focus once, input changed delay:300ms",
                "hx-target": "#time-zone-matches",
            }
        )
        return context

    def render(self, name, value, attrs=None, renderer=None):
        return super().render(name, value, attrs, renderer) + mark_safe(
            '<datalist id="time-zone-matches"></datalist>'
        )


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
            "time_zone": TimeZoneSearch,
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


class PlantAccessForm(forms.Form):
    """Lend the plant to a subcontractor: an installer of another company, found by e-mail or login."""

    who = forms.CharField(
        label=_("Installer's e-mail or login"), max_length=254, validators=[validate_single_line]
    )
    role = forms.ChoiceField(label=_("Role"), choices=PlantAccess._meta.get_field("role").choices)
    until = forms.DateField(
        label=_("Until (included)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )

    def __init__(self, *args, plant, **kwargs):
        super().__init__(*args, **kwargs)
        self.plant = plant

    def clean_who(self):
        who = self.cleaned_data["who"].strip()
        installer = (
            User.objects.filter(role=User.Role.INSTALLER, is_active=True)
            .filter(Q(email__iexact=who) | Q(username__iexact=who))
            .first()
        )
        if installer is None:
            raise forms.ValidationError(_("No installer's account has this e-mail or login."))
        return installer

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until < timezone.localdate(timezone.now(), self.plant.tzinfo):
            raise forms.ValidationError(_("Choose today or a later day."))
        return until

    def ends_at(self):
        """The end of the last day, at the plant's midnight."""
        following = self.cleaned_data["until"] + timedelta(days=1)
        return datetime.combine(following, time.min, tzinfo=self.plant.tzinfo)


class MemberPlantsForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    all_plants = forms.BooleanField(label=_("All the company's plants"), required=False)
    plants = forms.ModelMultipleChoiceField(
        label=_("Or only these plants"), queryset=Plant.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plants"].queryset = Plant.objects.restrict(user, ADMINISTER)
        self.fields["plants"].widget = PlantPicker(multiple=True)


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name of this filter"), max_length=60, validators=[validate_single_line])
    query = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)
