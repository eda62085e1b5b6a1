"""Accounts pages: pro-account requests, companies, the team, preferences, security events."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.access import company_member_required, distributor_admin_required

from . import services
from .forms import InviteColleagueForm, MemberRoleForm, PreferencesForm, ProAccountRequestForm, RejectForm
from .models import Company, CompanyRole, ProAccountRequest, SecurityEvent

ACCOUNT_REQUESTS_PER_HOUR = 10


def _too_many_requests(request):
    """The pro-account form may say whether a login is free: bounded per address, per hour."""
    key = f"account-request:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=3600)
    return cache.incr(key) > ACCOUNT_REQUESTS_PER_HOUR


def account_request(request):
    form = ProAccountRequestForm(request.POST or None)
    if request.method == "POST" and _too_many_requests(request):
        form.add_error(None, _("Too many requests from your connection; please try again in an hour."))
    if request.method == "POST" and form.is_valid():
        services.account_request_submit(request_obj=form.instance)
        # Post/redirect/get: a refresh of the answer page sends nothing again.
        request.session["account_request_sent"] = {
            "company_name": form.instance.company_name,
            "email": form.instance.email,
        }
        return redirect("account_request_sent")
    return render(request, "accounts/account_request.html", {"form": form})


@require_safe
def account_request_sent(request):
    sent = request.session.get("account_request_sent")
    if sent is None:
        return redirect("account_request")
    return render(request, "accounts/account_request_done.html", {"req": sent})


@distributor_admin_required
def account_requests(request):
    status = request.GET.get("status", ProAccountRequest.Status.PENDING)
    requests_ = ProAccountRequest.objects.filter(status=status).select_related("decided_by", "company")
    return render(
        request,
        "accounts/account_requests.html",
        {
            "requests": requests_,
            "status": status,
            "statuses": ProAccountRequest.Status.choices,
        },
    )


@distributor_admin_required
def account_request_detail(request, pk):
    req = get_object_or_404(ProAccountRequest, pk=pk)
    reject_form = RejectForm(request.POST or None)
    if request.method == "POST":
        try:
            if "approve" in request.POST:
                company = services.account_request_approve(request_obj=req, by=request.user)
                messages.success(
                    request,
                    _("Account created for %(name)s; a set-password e-mail was sent.")
                    % {"name": company.name},
                )
                return redirect("account_requests")
            if reject_form.is_valid():
                services.account_request_reject(
                    request_obj=req, by=request.user, reason=reject_form.cleaned_data["reason"]
                )
                messages.success(request, _("Request rejected; the requester was told why."))
                return redirect("account_requests")
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
    return render(request, "accounts/account_request_detail.html", {"req": req, "reject_form": reject_form})


@distributor_admin_required
def companies(request):
    return render(request, "accounts/companies.html", {"companies": Company.objects.all()})


@distributor_admin_required
def company_detail(request, pk):
    company = get_object_or_404(Company, pk=pk)
    return render(
        request,
        "accounts/company_detail.html",
        {
            "company": company,
            "members": company.members.order_by("username"),
        },
    )


@distributor_admin_required
@require_POST
def company_set_active(request, pk):
    company = get_object_or_404(Company, pk=pk)
    active = request.POST.get("active") == "1"
    services.company_set_active(company=company, active=active)
    if active:
        messages.success(request, _("%(name)s is active again.") % {"name": company.name})
    else:
        messages.success(
            request,
            _("%(name)s is deactivated: its installers can no longer log in.") % {"name": company.name},
        )
    return redirect("company_detail", pk=pk)


@company_member_required
def team(request):
    """The company's members and their roles; its administrators invite and change roles."""
    company = request.user.company
    administrator = request.user.is_company_administrator
    if request.method == "POST" and not administrator:
        raise PermissionDenied
    form = InviteColleagueForm(request.POST if "username" in request.POST else None)
    role_form = MemberRoleForm(request.POST if "member" in request.POST else None)
    if form.is_bound and form.is_valid():
        user = services.colleague_invite(company=company, by=request.user, **form.cleaned_data)
        messages.success(request, _("%(email)s was invited to choose a password.") % {"email": user.email})
        return redirect("team")
    if role_form.is_bound and role_form.is_valid():
        member = get_object_or_404(company.members, pk=role_form.cleaned_data["member"])
        try:
            services.member_set_role(
                member=member, company_role=role_form.cleaned_data["company_role"], by=request.user
            )
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, _("%(name)s's role is changed.") % {"name": member.display_name()})
        return redirect("team")
    return render(
        request,
        "accounts/team.html",
        {
            "company": company,
            "members": company.members.order_by("username"),
            "form": form,
            "administrator": administrator,
            "roles": CompanyRole.choices,
        },
    )


@login_required
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your preferences are saved."))
        return redirect("preferences")
    return render(request, "accounts/preferences.html", {"form": form})


@require_safe
@distributor_admin_required
def security_events(request):
    """What the distributor admin should know: the last events, newest first."""
    return render(
        request,
        "accounts/security_events.html",
        {"events": SecurityEvent.objects.select_related("by__company")[:200]},
    )
