from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from plants.fleet import fleet_summary
from plants.models import Plant

from . import services, tasks
from .access import customer_required, distributor_admin_required, installer_required
from .forms import EraseAccountForm, InviteColleagueForm, PreferencesForm, ProAccountRequestForm, RejectForm
from .health import health_report
from .models import Company, DataExport, ProAccountRequest, SecurityEvent
from .privacy import customer_erase, data_export_request


@login_required
@require_safe
def home(request):
    """Each role lands where its work is: the admin on the requests, an installer on the fleet
    home, a customer on their plant (or the list of their plants, when they have several)."""
    if request.user.is_distributor_admin:
        return redirect("account_requests")
    if request.user.is_customer:
        plants = list(Plant.objects.restrict(request.user, "view").values_list("pk", flat=True)[:2])
        if len(plants) == 1:
            return redirect("plants:detail", pk=plants[0])
        return redirect("plants:list")
    return render(request, "plants/fleet.html", {"fleet": fleet_summary(request.user)})


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
    return render(request, "portal/account_request.html", {"form": form})


@require_safe
def account_request_sent(request):
    sent = request.session.get("account_request_sent")
    if sent is None:
        return redirect("account_request")
    return render(request, "portal/account_request_done.html", {"req": sent})


@distributor_admin_required
def account_requests(request):
    status = request.GET.get("status", ProAccountRequest.Status.PENDING)
    requests_ = ProAccountRequest.objects.filter(status=status).select_related("decided_by", "company")
    return render(
        request,
        "portal/account_requests.html",
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
    return render(request, "portal/account_request_detail.html", {"req": req, "reject_form": reject_form})


@distributor_admin_required
def companies(request):
    return render(request, "portal/companies.html", {"companies": Company.objects.all()})


@distributor_admin_required
def company_detail(request, pk):
    company = get_object_or_404(Company, pk=pk)
    return render(
        request,
        "portal/company_detail.html",
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


@installer_required
def team(request):
    company = request.user.company
    form = InviteColleagueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.colleague_invite(company=company, by=request.user, **form.cleaned_data)
        messages.success(request, _("%(email)s was invited to choose a password.") % {"email": user.email})
        return redirect("team")
    return render(
        request,
        "portal/team.html",
        {
            "company": company,
            "members": company.members.order_by("username"),
            "form": form,
        },
    )


@login_required
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your preferences are saved."))
        return redirect("preferences")
    return render(request, "portal/preferences.html", {"form": form})


@customer_required
def my_data(request):
    """A copy of everything the portal holds on the customer: asked for here (POST), built in the
    background, e-mailed as a link and listed here while it can be downloaded."""
    if request.method == "POST":
        export, new = data_export_request(user=request.user)
        if new:
            tasks.build_data_export.delay_on_commit(export.pk)
        messages.success(
            request, _("Your copy is being prepared: we will e-mail you a link as soon as it is ready.")
        )
        return redirect("my_data")
    exports = request.user.data_exports.exclude(status=DataExport.Status.READY, expires_at__lt=timezone.now())
    return render(
        request, "portal/my_data.html", {"exports": exports, "data_export_days": settings.DATA_EXPORT_DAYS}
    )


@require_safe
@customer_required
def my_data_download(request, token):
    export = get_object_or_404(DataExport, token=token, user=request.user)
    if not export.available:
        raise Http404
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename="aura-my-data.zip",
        content_type="application/zip",
    )


@customer_required
def erase_account(request):
    """The customer erases their account, after typing their password."""
    form = EraseAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        customer_erase(user=request.user)
        logout(request)
        messages.success(
            request,
            _("Your account is erased. The installation's technical history stays with its installer."),
        )
        return redirect("login")
    return render(request, "portal/erase_account.html", {"form": form})


@require_safe
@distributor_admin_required
def security_events(request):
    """What the distributor admin should know: the last events, newest first."""
    return render(
        request,
        "portal/security_events.html",
        {"events": SecurityEvent.objects.select_related("by__company")[:200]},
    )


@require_safe
def healthz(request):
    """Quick (heartbeats, for load balancers); ?deep=1 also pings the workers (for monitoring).
    Anyone gets the status (200 or 503); staff, or a caller with HEALTHZ_TOKEN as its bearer token,
    gets what is down and why, and may ask for the deep check."""
    detailed = _may_see_health(request)
    report = health_report(deep=detailed and request.GET.get("deep") == "1")
    status = 200 if all(item["ok"] for item in report.values()) else 503
    if not detailed:
        report = {"status": {"ok": status == 200, "detail": ""}}
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(report, status=status)
    return render(request, "portal/healthz.html", {"report": report, "detailed": detailed}, status=status)


def _may_see_health(request):
    if request.user.is_authenticated and (request.user.is_staff or request.user.is_distributor_admin):
        return True
    token = settings.HEALTHZ_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and constant_time_compare(given, token)


def _error(request, status, template, message):
    """An error in the user's language: JSON for the API, the site's page (with a way back) otherwise."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(message)}, status=status)
    return render(request, template, {"message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "errors/400.html", _("The request could not be understood."))


def permission_denied(request, exception=None):
    return _error(request, 403, "errors/403.html", _("You are not allowed to see this page."))


def page_not_found(request, exception=None):
    return _error(request, 404, "errors/404.html", _("This page does not exist, or is not yours to see."))


def server_error(request):
    return _error(request, 500, "errors/500.html", _("Something went wrong on our side; we have been told."))
