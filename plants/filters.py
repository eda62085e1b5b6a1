"""The plant list's filters: one filterset for the page and the API (bad input: the form's error on the
page, 400 with the reason in the API)."""

from urllib.parse import urlencode

import django_filters
from django.db.models import F, OrderBy, Q
from django.utils.translation import gettext_lazy as _

from .models import Plant, PlantStatus, SystemType

# The list's orders: the plant's name, or one of its figures (PlantFigures), each either way.
SORT_FIELDS = {
    "name": "name",
    "power": "figures__pv_power_w",
    "today": "figures__today_wh",
    "yield": "figures__yield_yesterday",
    "seen": "figures__last_seen_at",
    "alarms": "figures__active_alarms",
}
SORT_CHOICES = [
    ("name", _("Name, A to Z")),
    ("-name", _("Name, Z to A")),
    ("-power", _("Power now, highest first")),
    ("power", _("Power now, lowest first")),
    ("-today", _("Production today, highest first")),
    ("today", _("Production today, lowest first")),
    ("-yield", _("Yield yesterday, highest first")),
    ("yield", _("Yield yesterday, lowest first")),
    ("-seen", _("Last seen, most recent first")),
    ("seen", _("Last seen, longest ago first")),
    ("-alarms", _("Active alarms, most first")),
    ("alarms", _("Active alarms, fewest first")),
]


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
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="sorted_by", label=_("Sort by"), empty_label=_("Name, A to Z")
    )

    class Meta:
        model = Plant
        fields = []

    def known_count(self, counts):
        """How many plants a valid filter shows when at most the status filters them, from the
        status `counts` (every plant the user sees); None when another filter is set."""
        data = self.form.cleaned_data
        if any(value for name, value in data.items() if name not in ("status", "sort")):
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

    def sorted_by(self, plants, name, value):
        """In the chosen order, the plant's id breaking ties. A figure's order reads its index of
        the company (the figures' copy of the company joined to the plant's, so that the planner
        narrows both to the user's company); a plant without a figure comes after those with one
        (before them, lowest first)."""
        descending = value.startswith("-")
        field = SORT_FIELDS[value.lstrip("-")]
        tie = OrderBy(F("pk"), descending=descending)
        if field != "name" and getattr(getattr(self.request, "user", None), "is_customer", False):
            # A customer's figures may be older than their hand-over: no order may tell them.
            return plants
        if field == "name":
            return plants.order_by(OrderBy(F(field), descending=descending), tie)
        # The index's own order (highest first, no figure last) or its mirror.
        order = OrderBy(
            F(field), descending=descending, nulls_last=descending or None, nulls_first=not descending or None
        )
        return plants.filter(figures__company_id=F("company_id")).order_by(order, tie)

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
