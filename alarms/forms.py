import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.validators import validate_single_line
from plants.forms import PlantPicker
from plants.models import Plant

from .models import AlarmCode, AlarmPolicy, Incident, Subscription, ThresholdRule, code_delays_error


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AlarmPolicyForm(forms.ModelForm):
    """The company's delays; per-code delays typed as "W07=0, F13=5"."""

    code_delays_text = forms.CharField(
        label=_("Per-code delays"),
        required=False,
        max_length=2000,
        help_text=_("Codes with their own delay in minutes, e.g. “W07=0, W20=30”."),
    )

    class Meta:
        model = AlarmPolicy
        fields = [
            "fault_delay_minutes",
            "warning_delay_minutes",
            "communication_delay_minutes",
            "quiet_minutes",
            "escalate_after_minutes",
            "escalate_to",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["escalate_to"].queryset = User.objects.filter(
            company_id=self.instance.company_id, is_active=True
        )
        delays = self.instance.code_delays or {}
        self.fields["code_delays_text"].initial = ", ".join(
            f"{code}={m}" for code, m in sorted(delays.items())
        )

    def clean_code_delays_text(self):
        delays = {}
        for part in filter(
            None, (p.strip() for p in re.split(r"[,;\n]", self.cleaned_data["code_delays_text"]))
        ):
            match = re.fullmatch(r"([A-Za-z]{1,3}\d{0,2})\s*=\s*(\d{1,4})", part)
            if not match:
                raise forms.ValidationError(_("“%(part)s”: write CODE=minutes.") % {"part": part[:20]})
            delays[match.group(1).upper()] = int(match.group(2))
        error = code_delays_error(delays)
        if error:
            raise forms.ValidationError(error)
        return delays

    def save(self, commit=True):
        self.instance.code_delays = self.cleaned_data["code_delays_text"]
        return super().save(commit)


class ThresholdRuleForm(forms.ModelForm):
    class Meta:
        model = ThresholdRule
        fields = [
            "name",
            "value",
            "comparison",
            "threshold",
            "minutes",
            "system_type",
            "tag",
            "plants",
            "enabled",
        ]
        widgets = {"plants": PlantPicker(multiple=True)}

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.company = company
        # Only the company's plants, by id; a long list is filtered by name in the browser.
        self.fields["plants"].queryset = Plant.objects.filter(company=company, archived_at__isnull=True)


class MaintenanceForm(forms.Form):
    DURATIONS = [(1, _("1 hour")), (4, _("4 hours")), (24, _("1 day")), (72, _("3 days")), (168, _("1 week"))]

    hours = forms.TypedChoiceField(label=_("Silence for"), choices=DURATIONS, coerce=int, initial=4)
    code = forms.ModelChoiceField(
        label=_("Only this code (optional)"), queryset=AlarmCode.objects.all(), required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class IncidentForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Incident.choices)
    assignee = forms.ModelChoiceField(label=_("Assigned to"), queryset=User.objects.none(), required=False)
    resolution = forms.CharField(
        label=_("Why (resolved or ignored)"),
        max_length=300,
        required=False,
        validators=[validate_single_line],
    )

    def __init__(self, *args, alarm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            company_id=alarm.plant.company_id, is_active=True
        )
        self.initial.setdefault("status", alarm.status)
        self.initial.setdefault("assignee", alarm.assignee_id)


class AlarmNoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    for_customer = forms.BooleanField(
        label=_("For the customer"), required=False, help_text=_("Unticked, only installers see it.")
    )
    visit_on = forms.DateField(
        label=_("Site visit on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    photo = forms.FileField(
        label=_("Photo"), required=False, widget=forms.ClearableFileInput(attrs={"accept": "image/*"})
    )


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = ["tag", "plants", "working_hours_only"]
        widgets = {"plants": PlantPicker(multiple=True)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plants"].queryset = Plant.objects.filter(
            company_id=self.instance.user.company_id, archived_at__isnull=True
        )
