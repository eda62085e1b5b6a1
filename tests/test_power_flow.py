"""The power-flow picture: which way each line runs, how thick, what it says, and when it is stale."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from devices.models import InverterLive

from .conftest import login, text
from .test_plant_dashboard import inverter  # noqa: F401 (fixture: charging from PV while exporting)


def branches(page):
    """{branch: (direction, stroke width, words)} as the picture draws them."""
    found = {}
    for key, direction, width, words in re.findall(
        r'data-branch="(\w+)" data-direction="(\w+)">\s*<path class="line" d="[^"]+" stroke-width="([\d.]+)"'
        r".*?data-value>([^<]*)</text>",
        page,
        flags=re.S,
    ):
        found[key] = (direction, float(width), words)
    return found


def test_lines_run_the_way_the_power_goes_and_grow_with_it(installer, plant, inverter):  # noqa: F811
    page = text(login(installer).get(reverse("plants:detail", args=[plant.pk])))
    drawn = branches(page)
    assert drawn["pv"][0] == "in" and drawn["pv"][2] == "3,15\u00a0kW"
    assert drawn["battery"][0] == "out" and drawn["battery"][2] == "en charge 1,02\u00a0kW"
    assert drawn["grid"][0] == "out" and drawn["grid"][2] == "injecte 920\u00a0W"
    assert drawn["home"][0] == "out" and drawn["home"][2] == "1,21\u00a0kW"
    # Thickness against the inverter's rating: solar (3.15 kW) is drawn thicker than the grid (0.92).
    assert drawn["pv"][1] > drawn["battery"][1] > drawn["grid"][1] >= 2
    # The path starts where the power comes from: solar at its node (top), the grid's at the inverter.
    assert 'data-branch="pv" data-direction="in">\n<path class="line" d="M180 64 L180 106"' in page
    assert 'data-branch="grid" data-direction="out">\n<path class="line" d="M156 130 L72 130"' in page
    # The state of charge as a gauge, and the whole picture in words for screen readers.
    assert re.search(r"data-soc>6[23]\u00a0%<", page)
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", page, flags=re.S).group(1)
    assert "Solaire\u00a0: 3,15\u00a0kW." in desc and "Réseau\u00a0: injecte 920\u00a0W." in desc
    assert re.search(r"Batterie\u00a0: 6[23]\u00a0% de charge, en charge 1,02\u00a0kW\.", desc)
    assert 'class="power-flow"' in page  # live: not greyed


def test_a_still_branch_is_drawn_idle_and_thin(installer, plant, inverter):  # noqa: F811
    InverterLive.objects.filter(inverter=inverter).update(
        values={"pv_power": 0, "load_power": 400, "grid_power": 3, "battery_power": 397, "battery_soc": 40}
    )
    drawn = branches(text(login(installer).get(reverse("plants:detail", args=[plant.pk]))))
    assert drawn["pv"][:2] == ("idle", 2.0)
    assert drawn["grid"] == ("idle", 2.0, "soutire 3\u00a0W")  # a few watts of jitter: no arrow
    assert drawn["battery"][0] == "in" and drawn["battery"][2] == "en décharge 397\u00a0W"


def test_stale_values_are_greyed_with_their_age(installer, plant, inverter, settings):  # noqa: F811
    InverterLive.objects.update(at=timezone.now() - timedelta(seconds=3 * settings.POLL_INTERVAL_SECONDS))
    page = text(login(installer).get(reverse("plants:detail", args=[plant.pk])))
    assert 'class="power-flow stale"' in page
    assert "data-age>il y a 3\u00a0min<" in page
    assert "Pas en direct\u00a0: valeurs d’il y a 3\u00a0min.</desc>" in page
