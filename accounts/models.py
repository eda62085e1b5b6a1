"""Who uses the portal: the distributor's admins, installer companies and their members, customers."""

import re
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.downloads import PreparedFile
from core.validators import validate_phone_number

LOGIN_RE = re.compile(r"^[A-Za-z0-9]+$")


def validate_login(value):
    if not LOGIN_RE.match(value or ""):
        raise ValidationError(
            _("The login may contain only letters and digits, without spaces or special characters."),
            code="invalid_login",
        )


class Company(models.Model):
    """An installer company (pro account). Deactivating it locks its installers out; nothing is deleted."""

    name = models.CharField(_("company name"), max_length=200)
    address = models.TextField(_("postal address"))
    mobile_phone = models.CharField(_("mobile phone"), max_length=30, validators=[validate_phone_number])
    email = models.EmailField(_("e-mail"))
    agency = models.CharField(_("distributor agency"), max_length=200, blank=True)
    customer_account_number = models.CharField(_("customer account number"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("installer company")
        verbose_name_plural = _("installer companies")

    def __str__(self):
        return self.name


class PortalUserManager(UserManager):
    """Login and e-mail are unique without regard to case: said once here, used by every form,
    service and model check."""

    def login_taken(self, login):
        return self.filter(username__iexact=login).exists()

    def email_taken(self, email):
        return self.filter(email__iexact=email).exists()

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """`createsuperuser` makes a distributor admin: the portal's own pages are theirs too."""
        extra_fields.setdefault("role", User.Role.DISTRIBUTOR_ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class CompanyRole(models.TextChoices):
    """What an installer may do in their company (SOLARMAN Business's members, VRM's technician)."""

    ADMINISTRATOR = "administrator", _("Administrator")  # members, hand-overs, deletions, webhooks, all
    TECHNICIAN = "technician", _("Technician")  # commissioning, alarms, remote control
    VIEWER = "viewer", _("Viewer")  # reads only


class User(AbstractUser):
    """A person who logs in. The role says what they may do; installers belong to one company, with
    a role in it."""

    class Role(models.TextChoices):
        DISTRIBUTOR_ADMIN = "distributor_admin", _("Distributor admin")
        INSTALLER = "installer", _("Installer")
        CUSTOMER = "customer", _("End customer")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CUSTOMER)
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    company_role = models.CharField(
        _("role in the company"), max_length=20, choices=CompanyRole.choices, default=CompanyRole.TECHNICIAN
    )  # read only for installers
    # A technician or viewer sees every plant of the company, or only those given to them
    # (Plant.members); an administrator sees them all.
    all_plants = models.BooleanField(_("sees all the company's plants"), default=True)
    # Whether another company ever lent this installer a plant (plants.PlantAccess): only then do
    # their plant queries look for a lent plant, so that nobody else's pay for it. Never cleared:
    # whether a lending still runs is decided by each query's clock, not by this.
    borrows_plants = models.BooleanField(default=False, editable=False)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    language = models.CharField(
        _("language of e-mails"),
        max_length=5,
        choices=[("fr", "Français"), ("en", "English")],
        default="fr",
    )
    email_warnings = models.BooleanField(
        _("e-mail me warnings too"),
        default=True,
        help_text=_("Faults are always e-mailed; untick to receive no e-mail for warnings."),
    )
    email_findings = models.BooleanField(
        _("e-mail me the portal's findings"),
        default=True,
        help_text=_("Production far below the clear sky, a PV string far below the other, threshold rules."),
    )
    email_digest = models.BooleanField(
        _("e-mail me a daily digest"),
        default=False,
        help_text=_("Each morning: what opened, what is still open and what cleared over the last day."),
    )
    # On the 1st, last month's report as PDF (economics.services): a customer's of each plant, an
    # installer's of the fleet they see.
    monthly_report = models.BooleanField(
        _("e-mail me a monthly report"),
        default=False,
        help_text=_(
            "On the 1st, as a PDF: for a customer, each plant's production, consumption, savings and "
            "incidents; for an installer, the fleet's availability, yield, incidents, batteries and firmware."
        ),
    )
    # An end customer's opt-in: told in plain words when their system needs attention.
    alert_me = models.BooleanField(
        _("e-mail me when my installation needs attention"),
        default=False,
        help_text=_("System stopped, connection lost, production far too low, battery empty."),
    )

    objects = PortalUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_unique_ci",
                violation_error_message=_("An account already uses this e-mail."),
            ),
            models.CheckConstraint(
                condition=models.Q(role="installer", company__isnull=False)
                | (~models.Q(role="installer") & models.Q(company__isnull=True)),
                name="user_company_iff_installer",
            ),
        ]

    @property
    def is_distributor_admin(self):
        return self.role == self.Role.DISTRIBUTOR_ADMIN

    @property
    def is_installer(self):
        return self.role == self.Role.INSTALLER

    @property
    def is_customer(self):
        return self.role == self.Role.CUSTOMER

    @property
    def may_change(self):
        """An installer who may change their company's plants (not a viewer)."""
        return self.is_installer and self.company_role != CompanyRole.VIEWER

    @property
    def may_change_company_settings(self):
        """An installer who may change what applies to all the company's plants (alarm rules): one
        who changes plants and sees them all."""
        return self.may_change and self.sees_every_company_plant

    @property
    def sees_every_company_plant(self):
        return self.is_installer and (self.all_plants or self.company_role == CompanyRole.ADMINISTRATOR)

    @property
    def is_company_administrator(self):
        """An installer who may manage the members, hand plants over, delete them, keep webhooks."""
        return self.is_installer and self.company_role == CompanyRole.ADMINISTRATOR

    @property
    def can_log_in(self):
        return self.is_active and (self.company_id is None or self.company.is_active)

    def display_name(self):
        return self.get_full_name() or self.username


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ProAccountRequest(models.Model):
    """A request for a pro account, made on the public page and decided by a distributor admin."""

    Status = RequestStatus

    company_name = models.CharField(_("company name"), max_length=200)
    address = models.TextField(_("postal address"))
    mobile_phone = models.CharField(_("mobile phone"), max_length=30, validators=[validate_phone_number])
    email = models.EmailField(_("e-mail"))
    login = models.CharField(
        _("desired login"),
        max_length=50,
        validators=[validate_login],
        help_text=_("Letters and digits only, without spaces or special characters."),
    )
    agency = models.CharField(
        _("distributor agency"), max_length=200, help_text=_("For example your Téréva agency.")
    )
    customer_account_number = models.CharField(_("customer account number"), max_length=50)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    rejection_reason = models.TextField(_("reason"), blank=True)
    company = models.OneToOneField(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="account_request"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("pro-account request")
        constraints = [
            models.UniqueConstraint(
                Lower("login"), condition=models.Q(status="pending"), name="request_pending_login_unique"
            ),
            models.UniqueConstraint(
                Lower("email"), condition=models.Q(status="pending"), name="request_pending_email_unique"
            ),
        ]

    def __str__(self):
        return f"{self.company_name} ({self.login})"

    def clean(self):
        """Refuse a login already taken (saying a login is free is fine, and the form is rate-limited).
        Nothing is said of e-mails: whether one has an account is nobody's business but the admin's
        (see `warnings`)."""
        pending = ProAccountRequest.objects.filter(status=self.Status.PENDING).exclude(pk=self.pk)
        if self.login and (
            User.objects.login_taken(self.login) or pending.filter(login__iexact=self.login).exists()
        ):
            raise ValidationError({"login": _("This login is already taken; please choose another one.")})

    @property
    def warnings(self):
        """What the distributor admin should look at before approving: duplicates of all kinds."""
        found = []
        if User.objects.email_taken(self.email):
            found.append(_("An account already uses this e-mail."))
        others = ProAccountRequest.objects.exclude(pk=self.pk).exclude(status=RequestStatus.REJECTED)
        number = self.customer_account_number.strip()
        if number and (
            others.filter(customer_account_number__iexact=number).exists()
            or Company.objects.filter(customer_account_number__iexact=number).exists()
        ):
            found.append(_("Another request or company has the same customer account number."))
        domain = self.email.rpartition("@")[2].strip().lower()
        if (
            domain
            and domain not in SHARED_MAIL_DOMAINS
            and (
                others.filter(email__iendswith=f"@{domain}").exists()
                or Company.objects.filter(email__iendswith=f"@{domain}").exists()
                or User.objects.filter(email__iendswith=f"@{domain}", company__isnull=False).exists()
            )
        ):
            found.append(
                _("Another request or company uses the e-mail domain %(domain)s: the same business?")
                % {"domain": domain}
            )
        return found


# Public mail providers: two businesses may share them, so a shared domain there says nothing.
SHARED_MAIL_DOMAINS = {
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.fr", "outlook.com", "outlook.fr", "live.fr",
    "live.com", "yahoo.com", "yahoo.fr", "icloud.com", "me.com", "orange.fr", "wanadoo.fr", "free.fr",
    "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr", "aol.com", "protonmail.com", "proton.me", "gmx.fr",
}  # fmt: skip


def new_export_token():
    return secrets.token_urlsafe(32)


class SecurityEvent(models.Model):
    """Something the distributor admin should know happened: the logger hub refusing an impostor,
    and every use of an end customer's data rights (who, when)."""

    class Kind(models.TextChoices):
        HUB_DUPLICATE = "hub_duplicate", _("A second connection claimed a connected logger")
        DATA_EXPORTED = "data_exported", _("A customer downloaded their data")
        ACCOUNT_ERASED = "account_erased", _("A customer's account was erased")
        PLANT_TRANSFERRED = "plant_transferred", _("A plant was handed over to a new owner")
        LOGIN_FAILED = "login_failed", _("Failed logins")
        LOCKED_OUT = "locked_out", _("A login or an address was locked out")

    kind = models.CharField(max_length=30, choices=Kind.choices)
    detail = models.CharField(max_length=300)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Repeated events are aggregated per subject (a logger serial, a login) and hour: how many, from
    # which addresses.
    subject = models.CharField(max_length=150, blank=True)
    count = models.PositiveIntegerField(default=1)
    addresses = models.JSONField(default=list, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"

    @classmethod
    def repeated(cls, kind, *, subject, address, describe):
        """Count one more `kind` event for `subject` from `address` in this hour's row (created on the
        first): a retrying stick or a password sprayer writes one row an hour, not one per attempt.
        `describe(event)` words the row's detail from its count and addresses. The row is locked
        while counted, so concurrent events add up."""
        hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        subject = str(subject)[:150]
        with transaction.atomic():
            event = cls.objects.select_for_update().filter(kind=kind, subject=subject, at__gte=hour).first()
            if event is None:
                event = cls(kind=kind, subject=subject, count=0)
            event.count += 1
            event.addresses = sorted({*event.addresses, address or "?"})[:20]
            event.detail = describe(event)[:300]
            event.save()
        return event


class DataExport(PreparedFile):
    """A customer's copy of their data, built in the background (a large history takes longer than
    a request may) and offered for DATA_EXPORT_DAYS at a link only its owner can open."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    token = models.CharField(max_length=64, unique=True, default=new_export_token, editable=False)
    file = models.FileField(upload_to="exports/", blank=True)

    def __str__(self):
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M} {self.status}"
