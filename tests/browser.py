"""Shared by the browser tests (the `browser_page` fixture is in conftest): logging in and out,
and the checks made on every page of a walk (width, labels, tap targets, axe-core)."""

import shutil
from pathlib import Path

import pytest

from .conftest import PASSWORD, htmx_ready

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed"),
]


def BROWSER(test):  # noqa: N802 (a mark, named as marks are)
    """The browser tests' marks, for one test of a module that has others."""
    for mark in reversed(pytestmark):
        test = mark(test)
    return test


SMALL_PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}

# axe-core from the npm registry (tests/vendor/README.md), evaluated by Playwright: outside the
# page's Content-Security-Policy, and never served by the portal.
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map(
    (v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}"""

# Tap targets under 44 × 44 px: controls and links standing alone (a link inside a sentence is
# exempt, as in WCAG's target-size rule); a checkbox or radio counts with its label.
SMALL_TARGETS = """() => {
  const controls = document.querySelectorAll(
    "a[href], button, summary, select, input:not([type=hidden]), textarea");
  const small = [];
  for (const el of controls) {
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    if (el.tagName === "A" && el.parentElement.textContent.trim() !== el.textContent.trim()) continue;
    const box = ((el.type === "checkbox" || el.type === "radio") && el.closest("label") || el)
      .getBoundingClientRect();
    if (box.width < 43.5 || box.height < 43.5) {
      small.push(`${el.outerHTML.slice(0, 70)} ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}"""

OVERFLOW_AND_LABELS = """() => {
  const unlabeled = [...document.querySelectorAll("input, select, textarea")].filter((f) =>
    f.type !== "hidden" && f.offsetParent !== null && !f.labels.length &&
    !f.getAttribute("aria-label") && !f.getAttribute("aria-labelledby"));
  return {width: document.documentElement.scrollWidth, screen: window.innerWidth,
          unlabeled: unlabeled.map((f) => f.name || f.id || f.outerHTML.slice(0, 60))};
}"""


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("article button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.wait_for_load_state("load")
    htmx_ready(page)


def log_out(page):
    """Through the menu as a person would: behind the Menu button on a phone."""
    if page.locator(".menu-phone summary").is_visible():
        page.click(".menu-phone summary")
    page.locator("header button:visible", has_text="Déconnexion").click()
    page.wait_for_url("**/login/**")


def accessibility_faults(page):
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate(AXE_RUN)


def check_page(page, url, *, phone):
    """The walk's checks of one page: nothing wider than the screen, no field without a label, on a
    phone no tap target under 44 × 44 px, and no serious or critical axe-core violation."""
    page.goto(url)
    found = page.evaluate(OVERFLOW_AND_LABELS)
    assert found["width"] <= found["screen"], (
        f"{url}: {found['width']} px wide on a {found['screen']} px screen"
    )
    assert found["unlabeled"] == [], f"{url}: fields without a label {found['unlabeled']}"
    if phone:
        assert page.evaluate(SMALL_TARGETS) == [], f"{url}: tap targets under 44 px"
    assert accessibility_faults(page) == [], f"{url}: axe-core"


# The controls a keyboard must reach: visible and enabled (of a group of radios, one: arrows move
# within it).
KEYBOARD_CONTROLS = """() => {
  const seenGroups = new Set();
  return [...document.querySelectorAll(
    "a[href], button, summary, select, input:not([type=hidden]), textarea, [tabindex='0']")].filter((el) => {
    if (!el.checkVisibility({visibilityProperty: true}) || el.disabled) return false;
    if (el.type === "radio") {
      if (seenGroups.has(el.name)) return false;
      seenGroups.add(el.name);
    }
    el.dataset.keyboardControl = "";
    return true;
  }).reduce((presses, el) => presses + (/^(date|time|datetime-local)$/.test(el.type) ? 3 : 1), 0);
}"""


def keyboard_unreachable(page):
    """The controls of the page that Tab never reaches (each marked, then Tab pressed through)."""
    count = page.evaluate(KEYBOARD_CONTROLS)  # Tab presses: a date field takes three
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(count + 5):
        page.keyboard.press("Tab")
        page.evaluate(
            "() => { const el = document.activeElement; if (el) { el.dataset.keyboardReached = '';"
            " if (el.type === 'radio') document.querySelectorAll(`input[name='${el.name}']`).forEach("
            "(r) => r.dataset.keyboardReached = ''); } }"
        )
    return page.evaluate(
        "() => [...document.querySelectorAll("
        "'[data-keyboard-control]:not([data-keyboard-reached]):not(:disabled)')]"
        ".map((el) => el.outerHTML.slice(0, 80))"
    )
