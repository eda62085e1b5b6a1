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
def watts(value):
    """A power in W, or in kW above 1000 W, with its unit."""
    if value is None:
        return "–"
    value = float(value)
    return f"{value / 1000:.2f} kW" if abs(value) >= 1000 else f"{value:.0f} W"


@register.filter
def get_item(mapping, key):
    return mapping.get(key)
