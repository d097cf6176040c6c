"""`assert_accessible` reads a dialog as a person sees it once opened, never mid fade-in."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from rdv_app import routes

# The « Planifier un RDV » dialog shown washed out with no animation running yet (as when React mounts it a
# frame before its fade-in starts, the moment CI once met: axe read its text at 1.2:1), held 6 s, then
# fading in over 2 s: what lasts a frame in CI lasts long enough to be met every time.
HELD_FADED = """
.rt-BaseDialogContent[data-state='open'] { animation: none !important; opacity: 0.2; transition: opacity 2s linear; }
.rt-BaseDialogContent[data-state='open'].fading-in { opacity: 1; }"""
FADE_IN_AFTER_6_S = """() => new MutationObserver((changes, observer) => {
    const dialog = document.querySelector('.rt-BaseDialogContent');
    if (dialog) {
        observer.disconnect();
        setTimeout(() => dialog.classList.add('fading-in'), 6000);
    }
}).observe(document.body, {childList: true, subtree: true})"""
CONTRAST = {"runOnly": {"type": "rule", "values": ["color-contrast"]}, "resultTypes": ["violations"]}


def test_axe_waits_until_a_dialog_has_faded_in(page: Page, app_url: str, login_as: Callable[[str], None],
                                               axe_source: str, assert_accessible: Callable[[Page], None]) -> None:
    login_as("julien.petit@demo.test")
    page.goto(f"{app_url}{routes.AGENDA}")
    expect(page.locator(".fc-timegrid")).to_be_visible()
    page.add_style_tag(content=HELD_FADED)
    page.evaluate(FADE_IN_AFTER_6_S)
    page.get_by_role("button", name="Planifier un RDV").click()
    dialog = page.get_by_role("dialog", name="Planifier un RDV")
    expect(dialog).to_be_visible()
    started = time.monotonic()

    # Read now, the washed-out dialog fails on contrast.
    page.evaluate(axe_source)
    violations = page.evaluate("options => axe.run('[role=dialog]', options).then(r => r.violations)", CONTRAST)
    assert [violation["id"] for violation in violations] == ["color-contrast"]

    # The helper waits for the end of the fade-in, then finds nothing to say.
    assert_accessible(page)
    assert time.monotonic() - started > 6
    assert dialog.evaluate("element => getComputedStyle(element).opacity") == "1"
