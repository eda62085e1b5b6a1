"""The power-flow picture: PV, grid, home and battery around the inverter, as inline SVG.

Each branch is a line between a node and the inverter, drawn in the direction the power goes (its
dashes run that way, an arrow says it without motion) and as thick as the power is large against the
plant's rating. The same picture serves the dashboard, the customer's view and the live session;
its <desc> says it all in words for screen readers.
"""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import units

register = template.Library()

# Below this a branch is drawn idle: the inverters' own readings jitter by a few watts at rest.
IDLE_W = 5
# The scale of the line's thickness when the plant's rating is unknown.
DEFAULT_RATED_W = 5000
THIN, THICK = 2.0, 9.0

# Where each node sits in the 360 × 260 picture, and the end of its line at the node and at the
# inverter (the inverter is the box in the middle).
NODES: dict[str, dict] = {
    "pv": {"at": (180, 38), "line": ((180, 64), (180, 106)), "text": (214, 32), "anchor": "start"},
    "grid": {"at": (46, 130), "line": ((72, 130), (156, 130)), "text": (6, 176), "anchor": "start"},
    "home": {"at": (314, 130), "line": ((288, 130), (204, 130)), "text": (354, 176), "anchor": "end"},
    "battery": {"at": (180, 222), "line": ((180, 196), (180, 154)), "text": (214, 216), "anchor": "start"},
}
# Each branch: its node, the live value, its label, the value in words, and whether a positive
# value flows towards the inverter (the register map's signs: grid + is import, battery + discharge).
BRANCHES = [
    ("pv", "pv_power", gettext_lazy("Solar"), units.power, True),
    ("grid", "grid_power", gettext_lazy("Grid"), units.grid_flow, True),
    ("home", "load_power", gettext_lazy("Home"), units.power, False),
    ("battery", "battery_power", gettext_lazy("Battery"), units.battery_flow, True),
]
SOC_RING = 2 * 3.14159 * 24  # the battery node's circumference: its ring is the state of charge


def _branch(
    key: str,
    watts: float | None,
    *,
    label: str,
    words: str,
    rated_w: float,
    towards_inverter_when_positive: bool,
) -> dict:
    """One line of the picture. `direction` is "in" (towards the inverter), "out" or "idle"."""
    node = NODES[key]
    outer, inner = node["line"]
    if watts is None or abs(watts) < IDLE_W:
        direction = "idle"
    else:
        direction = "in" if (watts > 0) == towards_inverter_when_positive else "out"
    start, end = (inner, outer) if direction == "out" else (outer, inner)
    share = 0 if watts is None else min(1.0, abs(watts) / rated_w)
    return {
        "key": key,
        "label": label,
        "words": words,
        "sentence": _("%(label)s: %(words)s") % {"label": label, "words": words},
        "direction": direction,
        "path": f"M{start[0]} {start[1]} L{end[0]} {end[1]}",
        "width": f"{THIN + (THICK - THIN) * share:.1f}",  # SVG numbers, never localised
        "x": node["at"][0],
        "y": node["at"][1],
        "text_x": node["text"][0],
        "text_y": node["text"][1],
        "anchor": node["anchor"],
    }


@register.inclusion_tag("includes/power_flow.html")
def power_flow(live: dict, rated_w: float | None = None, age: str = "") -> dict:
    """The picture of `live` ({pv_power, grid_power, battery_power, load_power, battery_soc, stale}):
    grid power positive is import, battery power positive is discharge (the register map's signs).
    `age` is shown when the values are stale."""
    rated = rated_w or DEFAULT_RATED_W
    soc = live.get("battery_soc")
    branches = [
        _branch(
            key,
            live.get(value),
            label=str(label),
            words=words(live.get(value)),
            rated_w=rated,
            towards_inverter_when_positive=towards,
        )
        for key, value, label, words, towards in BRANCHES
    ]
    battery = branches[3]
    if soc is not None:
        battery["sentence"] = _("%(label)s: %(soc)s charged, %(words)s") % {
            "label": battery["label"],
            "soc": units.percent(soc),
            "words": battery["words"],
        }
    return {
        "branches": branches,
        "stale": bool(live.get("stale")),
        "age": age,
        "soc": units.percent(soc),
        "soc_arc": f"{SOC_RING * min(100, max(0, soc)) / 100:.1f} {SOC_RING:.1f}"
        if soc is not None
        else None,
        "battery": battery,
    }
