from django import template

from plants.models import CommissioningStep

register = template.Library()


@register.inclusion_tag("includes/stepper.html")
def stepper(plant, step):
    """The commissioning steps, marking those done (before the plant's next step) and the current one."""
    steps = CommissioningStep.choices
    values = [v for v, _ in steps]
    if plant is None:
        done = []
    elif plant.next_step is None:
        done = values
    else:
        done = values[: values.index(plant.next_step)]
    return {"steps": steps, "step": step, "done_steps": done, "plant": plant}


@register.filter
def battery_mismatch(plant, inverter):
    return plant.battery_mismatch(inverter) if inverter else None


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


@register.inclusion_tag("plants/_sort_th.html", takes_context=True)
def sort_th(context, key, label, css=""):
    """A fleet-table column heading that sorts by `key`: a figure highest first, the name A to Z,
    and the other way round when clicked again; the list's filters kept, back to its first page."""
    query = context["request"].GET.copy()
    current = query.get("sort") or "name"
    first = key if key == "name" else f"-{key}"
    again = key if first.startswith("-") else f"-{key}"
    query["sort"] = again if current == first else first
    query.pop("page", None)
    sorted_here = current.lstrip("-") == key
    return {
        "label": label,
        "css": css,
        "query": query.urlencode(),
        "aria_sort": ("descending" if current.startswith("-") else "ascending") if sorted_here else "",
    }
