"""Filters of an inverter's history (the API's readings)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Reading


class ReadingFilterSet(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="slot", lookup_expr="gte", label=_("From (ISO 8601)"))
    until = django_filters.IsoDateTimeFilter(field_name="slot", lookup_expr="lt", label=_("Until (ISO 8601)"))

    class Meta:
        model = Reading
        fields = []
