from django import forms
from django.utils.translation import gettext_lazy as _

from core.validators import validate_single_line
from plants.forms import PlantPicker
from plants.models import Plant

from .models import CUSTOMER_KINDS, EventKind
from .services import scopes_of

LIFETIMES = [(30, _("30 days")), (90, _("90 days")), (180, _("180 days")), (365, _("1 year"))]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        validators=[validate_single_line],
        help_text=_("What uses it, e.g. “Home Assistant, garage”."),
    )
    scopes = forms.MultipleChoiceField(label=_("Scopes"), widget=forms.CheckboxSelectMultiple)
    days = forms.TypedChoiceField(label=_("Valid for"), choices=LIFETIMES, coerce=int, initial=90)
    plants = forms.ModelMultipleChoiceField(
        label=_("Only these plants (none: every plant you see)"),
        queryset=Plant.objects.none(),
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scopes = scopes_of(user)
        self.fields["scopes"].choices = [(scope.value, scope.label) for scope in scopes]
        self.fields["scopes"].initial = [scopes[0].value]  # read
        plants = self.fields["plants"]
        if user.is_installer:
            plants.queryset = Plant.objects.restrict(user, "change")
            plants.widget = PlantPicker(multiple=True)  # a search field: never the whole fleet
        elif user.is_customer:
            plants.queryset = Plant.objects.restrict(user, "view")  # their own few plants
            plants.widget = forms.CheckboxSelectMultiple()
        else:
            del self.fields["plants"]  # the distributor's tokens see what the distributor sees


class WebhookForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        validators=[validate_single_line],
        help_text=_("What receives it, e.g. “Ticketing”."),
    )
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("The portal POSTs each event there as JSON, signed (see the documentation)."),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Events (none: all)"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = CUSTOMER_KINDS if user.is_customer else EventKind
        self.fields["kinds"].choices = [(kind.value, kind.label) for kind in kinds]
