"""What the plants layer announces to the layers above it (docs/architecture/README.md, "Hooks").

Sent inside the sender's transaction: a receiver's writes commit or roll back with the change.
"""

from django.dispatch import Signal

# plant_ids: plants whose devices or grants changed; their stored status and counts are refreshed
# (monitoring.receivers).
plants_changed = Signal()

# plant, at: an archived plant's open alarms are cleared (alarms.receivers).
plant_archived = Signal()
