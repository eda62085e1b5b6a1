from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Site


class TickForm(forms.Form):
    reason = forms.CharField(
        label=_("Not done because (optional)"),
        max_length=300,
        required=False,
        help_text=_("Leave empty when done; a reason records why the item does not apply."),
    )
    photo = forms.FileField(
        label=_("Photo"), required=False, widget=forms.ClearableFileInput(attrs={"accept": "image/*"})
    )


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["breaker_distance_m", "grid_standard_reason"]
        # "12,5" as a French phone keyboard types it, and "12.5".
        localized_fields = ["breaker_distance_m"]
        widgets = {"breaker_distance_m": forms.TextInput(attrs={"inputmode": "decimal"})}
