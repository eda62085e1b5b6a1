"""Numbers as people read them: one helper for every power, energy, share and age on pages and
e-mails. The language's decimal mark (a comma in French), a no-break space before the unit, and
directions said in words rather than by a sign."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

NBSP = "\u00a0"


Number = int | float | Decimal


def number(value: Number, decimals: int = 0) -> str:
    return formats.number_format(round(float(value), decimals), decimals, use_l10n=True, force_grouping=True)


def power(watts: Number | None) -> str:
    """850 W, 1,02 kW (the magnitude; the direction is said by the callers below)."""
    if watts is None:
        return "–"
    watts = abs(float(watts))
    if watts >= 1000:
        return f"{number(watts / 1000, 2)}{NBSP}kW"
    return f"{number(watts)}{NBSP}W"


def energy(wh: Number | None) -> str:
    """12,3 kWh from Wh (one decimal: the inverters count in 0.1 kWh)."""
    if wh is None:
        return "–"
    return f"{number(float(wh) / 1000, 1)}{NBSP}kWh"


def cents(amount: Number) -> Decimal:
    """An amount of euros rounded to the cent as a bill rounds it (half up)."""
    return Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def euros(amount: Number | None) -> str:
    """12,35 € (to the cent)."""
    if amount is None:
        return "–"
    return f"{formats.number_format(cents(amount), 2, use_l10n=True, force_grouping=True)}{NBSP}€"


def percent(value: Number | None, decimals: int = 0) -> str:
    return "–" if value is None else f"{number(value, decimals)}{NBSP}%"


def _direction(watts: Number | None, still: str, positive: str, negative: str) -> str:
    if not watts:
        return still
    return (positive if watts > 0 else negative) % {"power": power(watts)}


def battery_flow(watts: Number | None) -> str:
    """The battery's power in words: positive is discharge in the register map."""
    return _direction(watts, _("idle"), _("discharging %(power)s"), _("charging %(power)s"))


def grid_flow(watts: Number | None) -> str:
    """The grid's power in words: positive is import (bought from the grid)."""
    return _direction(watts, _("no exchange"), _("importing %(power)s"), _("exporting %(power)s"))


def age(seconds: float) -> str:
    """How long ago, briefly: "40 s ago", "5 min ago", "3 h ago", "2 days ago"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return _("%(n)s s ago") % {"n": seconds}
    if seconds < 3600:
        return _("%(n)s min ago") % {"n": seconds // 60}
    if seconds < 86400:
        return _("%(n)s h ago") % {"n": seconds // 3600}
    days = seconds // 86400
    return ngettext("%(n)s day ago", "%(n)s days ago", days) % {"n": days}


def duration(seconds: float | None) -> str:
    """A length of time, briefly: "40 s", "12 min", "3 h 20 min", "2 days"; "–" for none."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return _("%(n)s s") % {"n": seconds}
    if seconds < 3600:
        return _("%(n)s min") % {"n": seconds // 60}
    if seconds < 86400:
        return _("%(h)s h %(m)s min") % {"h": seconds // 3600, "m": seconds % 3600 // 60}
    days = seconds // 86400
    return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
