"""What the device layer announces to the layers above it (docs/architecture/README.md, "Hooks").

The device layer never imports alarms or monitoring: it sends these, and the receivers connected in
those apps' ready() react. Every signal is sent inside the sender's transaction, so a receiver's
writes commit or roll back with the poll or the change that caused them. A change of devices also
sends plants.signals.plants_changed.
"""

from django.dispatch import Signal

# polled: [(logger, inverter or None, PollResult)] of one stored batch; alarms are opened, cleared
# and queued for e-mail from it (alarms.receivers).
poll_stored = Signal()

# logger (on its new plant): its open alarms follow it there (alarms.receivers).
datalogger_moved = Signal()

# logger: its open alarms are cleared (alarms.receivers).
datalogger_removed = Signal()

# inverter: the installer decided on a replacement; its SWP alarm is cleared (alarms.receivers).
inverter_replacement_decided = Signal()
