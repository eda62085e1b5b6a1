from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import services
from .forms import ApiTokenForm
from .models import ApiToken

NEW_SECRET = "integrations:new_api_token"  # the session key that carries a new secret to one page view


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
            for field, errors in e.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
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
