"""How monitoring reacts to the layers below (plants.signals): inside the sender's transaction."""

from django.dispatch import receiver

from plants.models import Plant
from plants.signals import plants_changed

from .status import plant_status_refresh


@receiver(plants_changed)
def refresh_status(sender, *, plant_ids, **kwargs):
    plant_status_refresh(Plant.objects.filter(pk__in=list(plant_ids)))
