"""What the docs promise: every environment variable the settings read is documented with its default
(docs/configuration.md), and the tests docs/architecture/invariants.md names exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_variable_the_settings_read_is_documented():
    settings = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z][A-Z0-9_]+)"', settings))
    documented = set(
        re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", (ROOT / "docs" / "configuration.md").read_text(), re.M)
    )
    assert len(read) > 50
    assert read - documented == set(), "document these in docs/configuration.md"
    assert documented - read == set(), "these are documented but no longer read"


def test_every_test_the_invariants_name_exists():
    """docs/architecture/invariants.md names the tests that hold each invariant: they must be there."""
    invariants = (ROOT / "docs" / "architecture" / "invariants.md").read_text()
    named = re.findall(r"`(tests/\w+\.py)(?:::(\w+))?", invariants)
    assert len(named) > 10
    for path, test in named:
        source = (ROOT / path).read_text()
        assert not test or f"def {test}(" in source, f"{path}::{test}"
