"""Sudo mode in a real browser: on a phone-sized screen, with the keyboard only."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from accounts.roles import Role
from accounts.sudo import SUDO_AT
from remote_access.models import RemoteAccessGrant
from tests.accounts.factories import PASSWORD, AccountFactory, MembershipFactory
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
FOCUSED_NAME = """() => {
  const e = document.activeElement;
  return (e.labels && e.labels[0] ? e.labels[0].innerText : e.innerText || "").trim();
}"""


def sudo_lapsed(page) -> None:
    """As far as the session knows, the password was typed long ago."""
    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=cookie["value"])
    session[SUDO_AT] = 0
    session.save()


def tab_to(page, accessible_name: str, limit: int = 80) -> None:
    """Press Tab until the focused element is labelled `accessible_name`."""
    for _press in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_NAME)
        if focused == accessible_name:
            return
    raise AssertionError(f"Tab never reached {accessible_name!r}")


def test_grant_30_days__confirm_password__keyboard_only_at_390_px(page):
    account = AccountFactory(name="Acme Store", timezone="America/New_York")
    MembershipFactory(
        account=account, role=Role.OWNER, user__email="owner@acme.test", user__full_name="Olivia"
    )
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "owner@acme.test", PASSWORD)
    sudo_lapsed(page)

    page.goto("/settings/security/")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    tab_to(page, "1 day")
    for _step in range(2):  # 1 day → 7 days → 30 days: arrows move within a radio group
        page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="30 days")).to_be_checked()
    tab_to(page, "Save")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    expect(page.get_by_label("Your password")).to_be_focused()
    page.keyboard.type("not my password")
    page.keyboard.press("Enter")
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    assert not RemoteAccessGrant.objects.exists()

    expect(page.get_by_label("Your password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Support access saved.")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    grant = RemoteAccessGrant.objects.get()
    assert (grant.status, grant.duration) == ("active", "30d")


def test_new_pages__no_serious_accessibility_violation(browser, live_server):
    """The sudo prompt, the profile and the first step of setting up two-factor, by axe-core."""
    from tests.test_journey import assert_accessible

    account = AccountFactory(name="Acme Store", timezone="America/New_York")
    MembershipFactory(account=account, role=Role.OWNER, user__email="owner@acme.test")
    # bypass_csp lets the test inject axe-core; the site's own pages keep their CSP.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    browser_login(page, "owner@acme.test", PASSWORD)
    for url in ("/profile/", "/profile/two-factor/"):
        page.goto(url)
        assert_accessible(page, url)
    sudo_lapsed(page)
    page.goto("/settings/billing/change/pro/")
    page.get_by_role("button", name="Upgrade").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    assert_accessible(page, "sudo prompt")
    page.get_by_label("Your password").fill("wrong")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    assert_accessible(page, "sudo prompt with an error")
    context.close()
