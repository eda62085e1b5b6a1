"""Filters of an inverter's history (the API's readings)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Reading


class ReadingFilterSet(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(method="from_since", label=_("From (ISO 8601)"))
    until = django_filters.IsoDateTimeFilter(method="to_until", label=_("Until (ISO 8601)"))

    class Meta:
        model = Reading
        fields = []

    def from_since(self, queryset, name, value):
        return queryset.during(start=value)

    def to_until(self, queryset, name, value):
        return queryset.during(end=value)
