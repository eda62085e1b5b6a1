"""The alarm list's filters, shared by the page, the CSV export and the API."""

from datetime import datetime, time, timedelta

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Alarm, AlarmCode

STATES = [("active", _("Active")), ("cleared", _("Cleared"))]


class AlarmFilterSet(django_filters.FilterSet):
    plant = django_filters.NumberFilter(
        field_name="plant_id",
        min_value=1,
        max_value=10**18 - 1,
        widget=django_filters.widgets.forms.HiddenInput,
    )
    code = django_filters.CharFilter(method="by_code", label=_("Code"), max_length=4)
    kind = django_filters.ChoiceFilter(
        field_name="code__kind",
        choices=AlarmCode.Kind.choices,
        label=_("Severity"),
        empty_label=_("All severities"),
    )
    state = django_filters.ChoiceFilter(
        method="by_state", choices=STATES, label=_("State"), empty_label=_("All states")
    )
    since = django_filters.DateFilter(method="by_since", label=_("From"))
    until = django_filters.DateFilter(method="by_until", label=_("To"))

    class Meta:
        model = Alarm
        fields = []

    def by_code(self, alarms, name, value):
        return alarms.filter(code_id=value.strip().upper())

    def by_state(self, alarms, name, value):
        return alarms.filter(cleared_at__isnull=value == "active")

    def by_since(self, alarms, name, value):
        """Alarms still active, or cleared on or after that day."""
        return alarms.filter(Q(cleared_at__isnull=True) | Q(cleared_at__gte=local_midnight(value)))

    def by_until(self, alarms, name, value):
        """Alarms started on or before that day."""
        return alarms.filter(started_at__lt=local_midnight(value + timedelta(days=1)))


def local_midnight(day):
    """The start of `day` in the user's time zone (the portal's, Europe/Paris by default): days are
    the user's calendar days, compared as timestamp ranges that the indexes serve."""
    return datetime.combine(day, time(), tzinfo=timezone.get_current_timezone())
