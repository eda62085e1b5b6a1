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
