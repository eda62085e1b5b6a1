from django import forms
from django.utils.translation import gettext_lazy as _


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
