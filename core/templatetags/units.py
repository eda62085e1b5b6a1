from datetime import datetime, timedelta

from django import template
from django.utils import timezone

from core import units

register = template.Library()

register.filter("power", units.power)
register.filter("energy", units.energy)
register.filter("percent", units.percent)
register.filter("euros", units.euros)
register.filter("battery_flow", units.battery_flow)
register.filter("grid_flow", units.grid_flow)


@register.filter
def age(moment: datetime | None) -> str:
    """`moment` (a datetime) as "40 s ago"."""
    return "–" if moment is None else units.age((timezone.now() - moment).total_seconds())


@register.filter
def duration_words(length: timedelta | None) -> str:
    """A timedelta as "3 h 20 min"."""
    return units.duration(None if length is None else length.total_seconds())
