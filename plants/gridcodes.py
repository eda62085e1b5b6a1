"""The grid codes (normes réseau) a plant is installed under: the inverter's list (register 3193),
which the plant's declared code and the register map both read."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Register 3193; 0–21 from the public list. The guide's screen (chapter 3-d) also shows 24: Denmark,
# which newer firmware has; it is kept so that such an inverter's value is named.
GRID_STANDARDS: dict[int, str | Promise] = {
    0: _("China"),
    1: _("Germany"),
    2: _("Australia"),
    3: _("Italy"),
    4: _("Spain"),
    5: _("United Kingdom"),
    6: _("Hungary"),
    7: _("Belgium"),
    8: _("Western Australia"),
    9: _("Greece"),
    10: _("France"),
    11: _("Bangkok"),
    12: _("Thailand"),
    13: _("South Africa"),
    14: "EN 50549",
    15: _("Brazil"),
    16: "VDE 0126",
    17: _("Ireland"),
    18: _("Israel"),
    19: _("Poland"),
    20: _("Chile"),
    21: _("Local"),
    24: _("Denmark"),
}
