from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CompanyRole, ProAccountRequest, User, validate_login


class ProAccountRequestForm(forms.ModelForm):
    class Meta:
        model = ProAccountRequest
        fields = [
            "company_name",
            "address",
            "mobile_phone",
            "email",
            "login",
            "agency",
            "customer_account_number",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def validate_unique(self):
        """A second pending request with the same e-mail is not an error shown to anyone: the
        service keeps the first one (ProAccountRequest.clean says why)."""
        exclude = self._get_validation_exclusions() | {"email"}
        try:
            self.instance.validate_unique(exclude=exclude)
            self.instance.validate_constraints(exclude=exclude)
        except forms.ValidationError as e:
            self._update_errors(e)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason given to the requester"), widget=forms.Textarea(attrs={"rows": 3})
    )


class InviteColleagueForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"))
    username = forms.CharField(label=_("Login"), max_length=50, validators=[validate_login])
    company_role = forms.ChoiceField(
        label=_("Role"),
        choices=CompanyRole.choices,
        initial=CompanyRole.TECHNICIAN,
        required=False,  # none said: technician
        help_text=_(
            "Administrator: members, hand-overs, deletions, webhooks and all the rest. Technician: "
            "commissioning, alarms, remote control. Viewer: reads only."
        ),
    )

    def clean_company_role(self):
        return self.cleaned_data["company_role"] or CompanyRole.TECHNICIAN

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.login_taken(username):
            raise forms.ValidationError(_("This login is already taken; please choose another one."))
        return username

    def clean_email(self):
        email = self.cleaned_data["email"]
        if User.objects.email_taken(email):
            raise forms.ValidationError(_("An account already uses this e-mail."))
        return email


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "first_name",
            "last_name",
            "phone",
            "language",
            "email_warnings",
            "email_findings",
            "email_digest",
            "alert_me",
            "monthly_report",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each role sees its own choices: installers what they are sent, customers their alerts.
        hidden = (
            ["email_warnings", "email_findings", "email_digest"]
            if self.instance.is_customer
            else ["alert_me"]
        )
        for name in hidden:
            del self.fields[name]


class EraseAccountForm(forms.Form):
    """Erasing an account cannot be undone: the customer confirms with their password."""

    password = forms.CharField(label=_("Your password"), widget=forms.PasswordInput)

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        if not self.user.check_password(self.cleaned_data["password"]):
            raise forms.ValidationError(_("This is not your password."))
        return self.cleaned_data["password"]


class MemberRoleForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    company_role = forms.ChoiceField(label=_("Role"), choices=CompanyRole.choices)
