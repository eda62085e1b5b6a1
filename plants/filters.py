"""The plant list's filters: one filterset for the page and the API (bad input: the form's error on the
page, 400 with the reason in the API)."""

from urllib.parse import urlencode

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Plant, PlantStatus, SystemType


class PlantFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=200)
    status = django_filters.ChoiceFilter(
        choices=PlantStatus.choices, label=_("Status"), empty_label=_("All statuses")
    )
    system_type = django_filters.ChoiceFilter(
        choices=SystemType.choices, label=_("System type"), empty_label=_("All system types")
    )
    city = django_filters.CharFilter(lookup_expr="icontains", label=_("City"), max_length=100)
    firmware = django_filters.CharFilter(method="on_firmware", label=_("Firmware (ARM/DSP)"), max_length=40)
    tag = django_filters.CharFilter(
        field_name="tags", lookup_expr="contains", method="tagged", label=_("Tag"), max_length=40
    )

    class Meta:
        model = Plant
        fields = []

    def known_count(self, counts):
        """How many plants a valid filter shows when at most the status filters them, from the
        status `counts` (every plant the user sees); None when another filter is set."""
        data = self.form.cleaned_data
        if any(value for name, value in data.items() if name != "status"):
            return None
        return counts[data["status"]] if data.get("status") else sum(counts.values())

    def on_firmware(self, plants, name, value):
        """Plants with an inverter in service on this version ("1.2.3/2.0.7", as the firmware
        inventory links them)."""
        arm, _slash, dsp = value.partition("/")
        running = Plant.objects.filter(
            dataloggers__archived_at__isnull=True,
            dataloggers__inverters__ended_at__isnull=True,
            dataloggers__inverters__rejected_at__isnull=True,
            dataloggers__inverters__firmware_arm=arm.strip(),
            dataloggers__inverters__firmware_dsp=dsp.strip(),
        )
        return plants.filter(pk__in=running.values("pk"))

    def tagged(self, plants, name, value):
        return plants.filter(tags__contains=[value.strip()])

    def search(self, plants, name, value):
        """By name, address or city (contains; trigram indexes), or by an attached logger's SN
        (exact). The plants of that SN are looked up first (the active loggers' unique index), so
        that the rest stays one BitmapOr of the three trigram indexes whatever the fleet's size."""
        found = Q(name__icontains=value) | Q(address__icontains=value) | Q(city__icontains=value)
        if (serial := value.strip()).isdigit():
            by_sn = Plant.objects.filter(
                dataloggers__serial_number=serial, dataloggers__archived_at__isnull=True
            ).values_list("pk", flat=True)
            found |= Q(pk__in=list(by_sn))
        return plants.filter(found)


def filter_query(data) -> str | None:
    """The plant list's query string (a QueryDict) reduced to its filters, for keeping: "" when it
    has none, None when they are not valid (their form says why on the list)."""
    known = {key: value for key in PlantFilterSet.base_filters if (value := data.get(key, "").strip())}
    if not PlantFilterSet(known, queryset=Plant.objects.none()).form.is_valid():
        return None
    return urlencode(sorted(known.items()))
