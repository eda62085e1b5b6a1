"""The layer that watches plants as wholes: each plant's status from its devices (refreshed on every
plants.signals.plants_changed), the fleet's figures, and the pages that show a plant or a fleet with
its devices, alarms and energy together. It sits above every domain app."""
