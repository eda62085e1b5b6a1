from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AlarmCode


class AlarmFilterForm(forms.Form):
    """Filters of the alarm list; the API reads the same query parameters through this form."""

    plant = forms.IntegerField(required=False, widget=forms.HiddenInput)
    code = forms.CharField(label=_("Code"), required=False, max_length=4)
    kind = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("All"))] + AlarmCode.Kind.choices
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All")), ("active", _("Active")), ("cleared", _("Cleared"))],
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filter(self, alarms):
        if not self.is_valid():
            return alarms.none()
        d = self.cleaned_data
        if d["plant"]:
            alarms = alarms.filter(plant_id=d["plant"])
        if d["code"]:
            alarms = alarms.filter(code_id=d["code"].upper())
        if d["kind"]:
            alarms = alarms.filter(code__kind=d["kind"])
        if d["state"] == "active":
            alarms = alarms.filter(cleared_at__isnull=True)
        elif d["state"] == "cleared":
            alarms = alarms.filter(cleared_at__isnull=False)
        if d["since"]:
            alarms = alarms.filter(Q(cleared_at__isnull=True) | Q(cleared_at__date__gte=d["since"]))
        if d["until"]:
            alarms = alarms.filter(started_at__date__lte=d["until"])
        return alarms


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
