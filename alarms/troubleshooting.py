"""The guide's chapter 5-c as data: the WiFi stick's LEDs and the battery's capacity LEDs."""

from django.utils.translation import gettext_lazy as _

OFF, ON, SLOW, FAST, ANY = "off", "on", "slow", "fast", "any"
LED_STATES = [
    (OFF, _("Off")),
    (ON, _("On (steady)")),
    (SLOW, _("Slow blink (1 s on / 1 s off)")),
    (FAST, _("Fast blink (100 ms)")),
]

BUTTON_PRESSES = [
    (_("Short press (1 s)"), _("Quick network setup (SMARTLINK).")),
    (_("Long press (5 s)"), _("Restarts the stick logger: all LEDs go off at once.")),
    (_("Long press (10 s)"), _("Factory reset: all LEDs go off after 4 s, then READY blinks fast.")),
]

# (NET, COM, READY) pattern → diagnosis; the first matching row wins, most specific first.
STICK_RULES = [
    (
        (FAST, ANY, ANY),
        {
            "fault": _("SMARTLINK network setup in progress"),
            "normal": True,
            "cause": _("Normal."),
            "fix": [
                _("Leaves this mode by itself after 1 minute."),
                _("Hold the reset button 5 s to restart the stick logger."),
                _("Hold the reset button 10 s to restore factory settings."),
            ],
        },
    ),
    (
        (ANY, ANY, FAST),
        {
            "fault": _("Restoring factory settings"),
            "normal": True,
            "cause": _("Normal."),
            "fix": [
                _("Leaves this mode by itself after 1 minute."),
                _("Hold the reset button 5 s to restart the stick logger."),
            ],
        },
    ),
    (
        (OFF, OFF, OFF),
        {
            "fault": _("Abnormal power supply"),
            "cause": _(
                "Loose or faulty connection between the stick logger and the inverter; not enough "
                "power from the inverter; faulty stick logger."
            ),
            "fix": [
                _("Check the connection between the stick logger and the inverter."),
                _("Check that the inverter is powered."),
                _("Try another stick logger."),
            ],
        },
    ),
    (
        (ANY, OFF, SLOW),
        {
            "fault": _("Abnormal communication with the inverter"),
            "cause": _(
                "The link between the stick logger and the inverter is badly made, or the inverter's "
                "communication rate does not match the stick logger's."
            ),
            "fix": [
                _(
                    "Check the connection between the stick logger and the inverter: remove the stick, "
                    "then plug it in again."
                ),
                _("Check that the inverter's communication rate matches the stick logger's."),
                _("Hold the reset button 5 s to restart the stick logger."),
            ],
        },
    ),
    (
        (OFF, ON, SLOW),
        {
            "fault": _("Abnormal connection between the logger and the router"),
            "cause": _("The stick logger has no network; faulty antenna; weak WiFi signal from the router."),
            "fix": [_("Check that the wireless network is configured (WiFi configuration step).")],
        },
    ),
    (
        (SLOW, ON, SLOW),
        {
            "fault": _("Logger–router link normal, logger–remote server link abnormal"),
            "cause": _(
                "The router's network is down; the logger's server address was changed; the network "
                "restricts the connection to the server."
            ),
            "fix": [
                _("Check that the router is connected to the internet."),
                _("Check the router's configuration for restricted connections."),
            ],
        },
    ),
    (
        (ON, ON, SLOW),
        {
            "fault": _("Normal operation"),
            "normal": True,
            "cause": _("Connected to the router, the server and the inverter."),
            "fix": [],
        },
    ),
    (
        (ON, SLOW, SLOW),
        {
            "fault": _("Normal operation"),
            "normal": True,
            "cause": _("Connected to the server; communicating with the inverter."),
            "fix": [],
        },
    ),
]


def diagnose_stick(net, com, ready):
    for pattern, diagnosis in STICK_RULES:
        if all(p in (ANY, led) for p, led in zip(pattern, (net, com, ready), strict=True)):
            return diagnosis
    return None


BATTERY_BANDS = ["0–25 %", "26–50 %", "51–75 %", "76–100 %"]
BLINK = "blink"
BATTERY_LED_STATES = [(OFF, _("Off")), (ON, _("On")), (BLINK, _("Blinks twice"))]


def diagnose_battery(charging, leds):
    """State-of-charge band from the four capacity LEDs (guide, chapter 5-c), or None if unknown.

    Charging: the LEDs below the band are on and the band's LED blinks twice.
    Discharging: as many LEDs are on, steady, as the band's rank.
    """
    for rank, band in enumerate(BATTERY_BANDS):
        if charging:
            expected = [ON] * rank + [BLINK] + [OFF] * (3 - rank)
        else:
            expected = [ON] * (rank + 1) + [OFF] * (3 - rank)
        if list(leds) == expected:
            return band
    return None
