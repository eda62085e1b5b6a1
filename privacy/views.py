"""The customer's data rights in pages: ask for a copy of their data, download it, erase the account."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.forms import EraseAccountForm
from accounts.models import DataExport
from core.access import customer_required

from . import tasks
from .services import customer_erase, data_export_request


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
        request, "privacy/my_data.html", {"exports": exports, "data_export_days": settings.DATA_EXPORT_DAYS}
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
    return render(request, "privacy/erase_account.html", {"form": form})
