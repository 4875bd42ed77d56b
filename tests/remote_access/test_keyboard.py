"""Keyboard only, as the help article's steps: grant 7 days, change to a custom date, remove.
After each step focus is where the person expects it, and the outcome is on screen and in a
live region."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from tests.accounts.factories import PASSWORD, AccountFactory, MembershipFactory
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = "document.activeElement"


def press_until(page, key: str, test: str, *, limit: int = 40) -> None:
    """Press `key` until the focused element passes the JS expression `test` (on `el`)."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(f"(() => {{ const el = {FOCUSED}; return !!({test}); }})()"):
            return
    raise AssertionError(f"{key} never reached an element where {test}")


def focused(page, test: str) -> bool:
    return page.evaluate(f"(() => {{ const el = {FOCUSED}; return !!({test}); }})()")


def assert_outcome(page, text) -> None:
    """The outcome is announced (a live region holds the text), focused, and in view."""
    expect(page.get_by_role("status")).to_contain_text(text)
    page.wait_for_function("document.activeElement.hasAttribute('data-outcome')")
    expect(page.locator("[data-outcome]")).to_be_in_viewport()


def test_grant_change_and_remove_with_the_keyboard_alone(page):
    account = AccountFactory(name="Acme Store", timezone="America/New_York")
    MembershipFactory(
        account=account,
        role=Role.OWNER,
        user__email="owner@acme.test",
        user__full_name="Olivia Owner",
    )
    browser_login(page, "owner@acme.test", PASSWORD)
    page.goto("/settings/security/")

    # 1. Grant 7 days: Tab into the choices, arrow to "7 days", see the new end, Save.
    press_until(page, "Tab", "el.name === 'duration'")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    assert focused(page, "el.value === '7d' && el.checked")
    expect(page.locator("[data-preview]")).to_contain_text(re.compile(r"New end: \w{3} \d+"))
    press_until(page, "Tab", "el.textContent.trim() === 'Save'")
    page.keyboard.press("Enter")
    assert_outcome(
        page,
        re.compile(
            r"Latchkey support can access Acme Store until \w{3} \d+ \w{3} \d{4}, .+ from now"
        ),
    )

    # 2. Change to a custom date: the current period is pre-selected; arrow to Custom date.
    press_until(page, "Tab", "el.name === 'duration'")
    assert focused(page, "el.value === '7d' && el.checked"), "the current period is chosen"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert focused(page, "el.value === 'custom' && el.checked")
    page.keyboard.press("Tab")
    assert focused(page, "el.name === 'last_day'")
    last_day = dt.datetime.now(account.tzinfo).date() + dt.timedelta(days=25)
    page.keyboard.type(last_day.strftime("%m%d%Y"))
    expect(page.locator("[data-preview]")).to_contain_text("New end: the end of")
    expect(page.locator("[data-preview]")).to_contain_text("longer than now")
    press_until(page, "Tab", "el.textContent.trim() === 'Save'")
    page.keyboard.press("Enter")
    assert_outcome(page, re.compile(r"until the end of .+ \(23:59 E[SD]T\)"))
    assert_outcome(page, "longer than now")

    # 3. Remove: from the outcome, Tab reaches Remove; the dialog opens on Cancel; Escape
    # closes it and gives focus back; the second time Tab, Shift+Tab, Tab, Enter removes.
    page.keyboard.press("Tab")
    assert focused(page, "el.textContent.trim() === 'Remove' && !el.closest('dialog')")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Remove support access?")
    expect(dialog).to_be_visible()
    assert focused(page, "el.textContent.trim() === 'Cancel'"), "Cancel, never Remove, first"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused(page, "el.textContent.trim() === 'Remove' && !el.closest('dialog')")
    page.keyboard.press("Space")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    assert focused(page, "el.textContent.trim() === 'Remove' && el.closest('dialog')")
    page.keyboard.press("Shift+Tab")
    assert focused(page, "el.textContent.trim() === 'Cancel'")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert_outcome(page, "Support access removed.")
    assert list(account.remote_access_grants.values_list("status", flat=True).order_by("pk")) == [
        "replaced",
        "revoked",
    ]
