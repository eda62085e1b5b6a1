"""The project's own pages: where each role lands, the web app manifest, the health check, the
error pages."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.context import THEME_COLOUR
from monitoring.fleet import fleet_summary
from plants.models import Plant

from .health import health_report


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


@require_safe
def web_app_manifest(request):
    """What lets an installer keep the portal on the phone's home screen: a name, icons and the
    colours. No service worker: the portal shows live values or says it cannot, never a cache."""
    icons = [
        ("img/icon-192.png", 192, "any"),
        ("img/icon-512.png", 512, "any"),
        ("img/icon-maskable-512.png", 512, "maskable"),
    ]
    manifest = {
        "name": _("AURA installer portal"),
        "short_name": "AURA",
        "lang": get_language(),
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [
            {"src": static(path), "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}
            for path, size, purpose in icons
        ],
    }
    return JsonResponse(
        manifest, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
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
