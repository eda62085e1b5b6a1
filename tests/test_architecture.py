"""The house's rules that no import checker sees: the hooks the architecture lists are connected, and
the accounts app keeps the label its tables and migrations were made under."""

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parents[1]


def _documented_hooks():
    text = (ROOT / "docs" / "architecture" / "README.md").read_text()
    rows = re.findall(r"^\| `([\w.]+)\(.*?\)` \| .*? \| (.*) \|$", text, re.M)
    return [(signal, re.findall(r"`([\w.]+)`", received)) for signal, received in rows]


def test_every_documented_hook_is_connected():
    """Each signal's receivers are exactly the ones docs/architecture/README.md lists: a receiver
    dropped (a poll would no longer open alarms) or added unlisted fails here."""
    hooks = _documented_hooks()
    assert len(hooks) == 6
    for signal_path, receivers in hooks:
        signal = import_string(signal_path)
        connected = {
            f"{r.__module__}.{r.__qualname__}"
            for r in (ref() for _key, ref, *_rest in signal.receivers)
            if r is not None and not r.__module__.startswith("tests.")
        }
        assert connected == set(receivers), signal_path


def test_the_accounts_app_keeps_the_portal_label():
    config = apps.get_app_config("portal")
    assert config.name == "accounts"
    assert settings.AUTH_USER_MODEL == "portal.User"
    assert apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table == "portal_user"
