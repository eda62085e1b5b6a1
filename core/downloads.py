"""Files built in the background and offered for a while to the person who asked (a customer's copy of
their data, a long readings export): the status, the expiry and the purge they share."""

from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PreparedFile(models.Model):
    """Subclasses give the `file` (a FileField, with its own folder) and who may download it."""

    file: Any  # the subclass's FileField
    objects: Any  # the subclass's manager

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def available(self) -> bool:
        return (
            self.status == self.Status.READY
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )

    def offer(self, *, days: int) -> None:
        """The file, saved, is ready: offered for `days` from now."""
        self.size = self.file.size
        self.status = self.Status.READY
        self.expires_at = timezone.now() + timedelta(days=days)
        self.save(update_fields=["file", "size", "status", "expires_at"])

    def failed(self) -> None:
        type(self).objects.filter(pk=self.pk).update(status=self.Status.FAILED)

    @classmethod
    def purge(cls, *, now: datetime | None = None) -> int:
        """Delete those past their expiry (files and rows); returns how many."""
        expired = cls.objects.filter(expires_at__lt=now or timezone.now())
        for prepared in expired:
            prepared.file.delete(save=False)
        return expired.delete()[0]
