"""The alarm list's filters, shared by the page, the CSV export and the API."""

import django_filters
from django.db.models import Q
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
    until = django_filters.DateFilter(field_name="started_at", lookup_expr="date__lte", label=_("To"))

    class Meta:
        model = Alarm
        fields = []

    def by_code(self, alarms, name, value):
        return alarms.filter(code_id=value.strip().upper())

    def by_state(self, alarms, name, value):
        return alarms.filter(cleared_at__isnull=value == "active")

    def by_since(self, alarms, name, value):
        """Alarms still active, or cleared on or after that day."""
        return alarms.filter(Q(cleared_at__isnull=True) | Q(cleared_at__date__gte=value))
