from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.forms import add_errors

from . import services
from .forms import ApiTokenForm, WebhookForm
from .models import ApiToken, Webhook

NEW_SECRET = "integrations:new_api_token"  # the session key that carries a new secret to one page view
DELIVERY_LOG_LENGTH = 50


@never_cache  # the page may show a secret once: no copy of it in any cache
@login_required
def api_tokens(request):
    """The person's API tokens: made here (the secret shown once, after the redirect), listed with
    their last use, revoked at once."""
    form = ApiTokenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = services.api_token_create(
                user=request.user,
                name=data["name"],
                scopes=data["scopes"],
                expires_at=timezone.now() + timedelta(days=data["days"]),
                plants=data.get("plants") or (),
            )
        except ValidationError as e:
            add_errors(form, e)
        else:
            request.session[NEW_SECRET] = {"id": token.pk, "secret": secret}
            return redirect("api_tokens")
    new = request.session.pop(NEW_SECRET, None)
    tokens = ApiToken.objects.restrict(request.user).prefetch_related("plants")
    return render(
        request,
        "integrations/api_tokens.html",
        {"form": form, "tokens": tokens, "new": new, "now": timezone.now()},
    )


@login_required
@require_POST
def api_token_revoke(request, pk):
    token = get_object_or_404(ApiToken.objects.restrict(request.user), pk=pk)
    if services.api_token_revoke(token=token):
        messages.success(
            request, _("The token “%(name)s” is revoked: it is refused from now on.") % {"name": token.name}
        )
    return redirect("api_tokens")


def _webhook_owner_required(view):
    """A company's administrators (for the company) and customers (for themselves) have webhooks; the
    distributor's admin has none."""

    @login_required
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not (request.user.is_company_administrator or request.user.is_customer):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked


@never_cache  # the page shows a webhook's secret
@_webhook_owner_required
def webhooks(request):
    """The company's (or the customer's) webhooks, and a form to add one."""
    form = WebhookForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            webhook = services.webhook_create(user=request.user, **form.cleaned_data)
        except ValidationError as e:
            add_errors(form, e)
        else:
            messages.success(request, _("The webhook is made: send it a test event, then check its log."))
            return redirect("webhook", pk=webhook.pk)
    hooks = Webhook.objects.restrict(request.user)
    return render(request, "integrations/webhooks.html", {"form": form, "webhooks": hooks})


@never_cache
@login_required
def webhook(request, pk):
    """One webhook: its settings, its secret, its delivery log."""
    hook = get_object_or_404(Webhook.objects.restrict(request.user), pk=pk)
    initial = {"name": hook.name, "url": hook.url, "kinds": hook.kinds}
    form = WebhookForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_update(webhook=hook, **form.cleaned_data)
        except ValidationError as e:
            add_errors(form, e)
        else:
            messages.success(request, _("The webhook is saved."))
            return redirect("webhook", pk=hook.pk)
    deliveries = hook.deliveries.all()[:DELIVERY_LOG_LENGTH]
    return render(
        request, "integrations/webhook.html", {"webhook": hook, "form": form, "deliveries": deliveries}
    )


@login_required
@require_POST
def webhook_test(request, pk):
    hook = get_object_or_404(Webhook.objects.restrict(request.user), pk=pk)
    sent = services.webhook_test(webhook=hook)
    if sent.delivered_at:
        messages.success(request, _("Test event delivered: HTTP %(code)s.") % {"code": sent.status_code})
    else:
        messages.error(request, _("Test event not delivered: %(error)s") % {"error": sent.error})
    return redirect("webhook", pk=hook.pk)


@login_required
@require_POST
def webhook_enable(request, pk):
    hook = get_object_or_404(Webhook.objects.restrict(request.user), pk=pk)
    services.webhook_enable(webhook=hook, enabled=request.POST.get("enabled") == "1")
    return redirect("webhook", pk=hook.pk)


@login_required
@require_POST
def webhook_delete(request, pk):
    hook = get_object_or_404(Webhook.objects.restrict(request.user), pk=pk)
    services.webhook_delete(webhook=hook)
    messages.success(request, _("The webhook “%(name)s” is deleted.") % {"name": hook.name})
    return redirect("webhooks")
