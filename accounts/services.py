"""Workflows of the pro-account lifecycle: approve, reject, deactivate, invite."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.mail import send_templated, set_password_url

from .models import Company, CompanyRole, ProAccountRequest, User


def account_request_submit(*, request_obj: ProAccountRequest) -> ProAccountRequest:
    """Store a validated request and tell the distributor it is waiting. A second pending request
    with the same e-mail is the first one sent again: the requester is answered the same way."""
    pending = ProAccountRequest.objects.filter(status=ProAccountRequest.Status.PENDING)
    first = pending.filter(email__iexact=request_obj.email).first()
    if first is not None:
        return first
    request_obj.save()
    if settings.DISTRIBUTOR_EMAIL:
        transaction.on_commit(
            lambda: send_templated(
                "account_request_received",
                to=settings.DISTRIBUTOR_EMAIL,
                context={"req": request_obj},
            )
        )
    return request_obj


def _decide(request_obj: ProAccountRequest, *, status: str, by: User, **fields: object) -> None:
    """Move a pending request to `status`, once: a second admin acting at the same time loses."""
    changed = ProAccountRequest.objects.filter(
        pk=request_obj.pk, status=ProAccountRequest.Status.PENDING
    ).update(status=status, decided_by=by, decided_at=timezone.now(), **fields)
    if not changed:
        raise ValidationError(_("This request has already been decided."))
    request_obj.refresh_from_db()


@transaction.atomic
def account_request_approve(*, request_obj: ProAccountRequest, by: User) -> Company:
    """Create the company and its first installer, then e-mail them a set-your-password link."""
    if request_obj.status != ProAccountRequest.Status.PENDING:
        raise ValidationError(_("This request has already been decided."))
    if User.objects.login_taken(request_obj.login):
        raise ValidationError(_("The login %(login)s was taken meanwhile.") % {"login": request_obj.login})
    if User.objects.email_taken(request_obj.email):
        raise ValidationError(_("The e-mail %(email)s was taken meanwhile.") % {"email": request_obj.email})
    company = Company.objects.create(
        name=request_obj.company_name,
        address=request_obj.address,
        mobile_phone=request_obj.mobile_phone,
        email=request_obj.email,
        agency=request_obj.agency,
        customer_account_number=request_obj.customer_account_number,
    )
    _decide(request_obj, status=ProAccountRequest.Status.APPROVED, by=by, company=company)
    installer = User.objects.create_user(
        username=request_obj.login,
        email=request_obj.email,
        role=User.Role.INSTALLER,
        company_role=CompanyRole.ADMINISTRATOR,  # the first member
        company=company,
        phone=request_obj.mobile_phone,
    )
    transaction.on_commit(
        lambda: send_templated(
            "account_approved",
            to=installer.email,
            context={"user": installer, "company": company, "url": set_password_url(installer)},
        )
    )
    return company


@transaction.atomic
def account_request_reject(*, request_obj: ProAccountRequest, by: User, reason: str) -> None:
    _decide(request_obj, status=ProAccountRequest.Status.REJECTED, by=by, rejection_reason=reason)
    transaction.on_commit(
        lambda: send_templated(
            "account_rejected", to=request_obj.email, context={"req": request_obj, "reason": reason}
        )
    )


def company_set_active(*, company: Company, active: bool) -> None:
    """Deactivate (or reactivate) a company: its installers are refused at once, nothing is deleted."""
    company.is_active = active
    company.deactivated_at = None if active else timezone.now()
    company.save(update_fields=["is_active", "deactivated_at"])


@transaction.atomic
def colleague_invite(
    *,
    company: Company,
    by: User,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    company_role: str = CompanyRole.TECHNICIAN,
) -> User:
    """Add an installer to `company` with `company_role` and e-mail them a link to choose their
    password. Only the company's administrators invite."""
    if not (by.is_company_administrator and by.company_id == company.pk):
        raise PermissionDenied(_("Only the company's administrators invite colleagues."))
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=User.Role.INSTALLER,
        company_role=company_role,
        company=company,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    transaction.on_commit(
        lambda: send_templated(
            "colleague_invited",
            to=email,
            context={"user": user, "by": by, "company": company, "url": set_password_url(user)},
            language=by.language,
        )
    )
    return user


@transaction.atomic
def member_set_role(*, member: User, company_role: str, by: User) -> None:
    """Give a member of `by`'s company another role. The company always keeps an administrator: its
    administrators are locked while the last one is counted, so two demoting each other at once
    cannot both succeed."""
    company_id = member.company_id
    if company_id is None or not (by.is_company_administrator and company_id == by.company_id):
        raise PermissionDenied(_("Only the company's administrators change roles."))
    if company_role not in CompanyRole.values:
        raise ValidationError(_("Not a role."))
    administrators = list(
        User.objects.select_for_update()
        .filter(company_id=company_id, company_role=CompanyRole.ADMINISTRATOR, is_active=True)
        .values_list("pk", flat=True)
    )
    if by.pk not in administrators:  # demoted meanwhile
        raise PermissionDenied(_("Only the company's administrators change roles."))
    if company_role != CompanyRole.ADMINISTRATOR and administrators == [member.pk]:
        raise ValidationError(_("The company needs an administrator: make another member one first."))
    User.objects.filter(pk=member.pk).update(company_role=company_role)
