import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from remote_access.models import AccessEvent, RemoteAccessGrant
from tests.accounts.factories import PASSWORD, AccountFactory, MembershipFactory
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "tests/screenshots"


def test_merchant_grants_and_removes_access_as_the_help_article_says(page):
    """Account name → Settings → Security → 7 days → Save → who and until when → Remove → Remove."""
    account = AccountFactory(name="Acme Store", timezone="America/New_York")
    MembershipFactory(
        account=account,
        role=Role.OWNER,
        user__email="owner@acme.test",
        user__full_name="Olivia Owner",
    )
    browser_login(page, "owner@acme.test", PASSWORD)

    page.get_by_role("button", name="Acme Store").click()
    page.locator(".account-menu__panel").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Security").click()
    section = page.get_by_role("region", name="Latchkey Remote Access")
    expect(section).to_be_visible()
    expect(section.get_by_text("No access")).to_be_visible()

    section.get_by_role("radio", name="7 days").check()
    section.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Support access saved.")
    section = page.get_by_role("region", name="Latchkey Remote Access")
    expect(section).to_contain_text("Olivia Owner (owner@acme.test)")
    expect(section).to_contain_text(re.compile(r"E[SD]T"))
    expect(section).to_contain_text(re.compile(r"6\sdays and 23\shours from now"))
    page.screenshot(path=f"{SCREENSHOTS}/security-tab-live.png", full_page=True)
    history = page.get_by_role("region", name="Access history")
    expect(history).to_contain_text("Olivia Owner granted access for 7 days")

    section.get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/security-tab-remove-dialog.png")
    dialog.get_by_role("button", name="Remove").click()

    expect(page.get_by_role("status")).to_contain_text("Support access removed.")
    expect(page.get_by_role("region", name="Latchkey Remote Access")).to_contain_text("No access")
    expect(page.get_by_role("region", name="Access history")).to_contain_text(
        "Olivia Owner removed access"
    )
    assert list(RemoteAccessGrant.objects.values_list("status", flat=True)) == ["revoked"]
    assert AccessEvent.objects.count() == 2


def test_custom_date_error_keeps_the_typed_date(page):
    account = AccountFactory(name="Acme Store")
    MembershipFactory(account=account, role=Role.ADMIN, user__email="admin@acme.test")
    browser_login(page, "admin@acme.test", PASSWORD)
    page.goto("/grant-access")
    expect(page).to_have_url(re.compile(r"/settings/security/#remote-access$"))
    section = page.get_by_role("region", name="Latchkey Remote Access")
    section.get_by_role("radio", name="Custom date").check()
    date = section.get_by_label("Last day of access")
    expect(date).to_be_visible()
    date.fill("2020-01-01")
    section.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Pick a date from tomorrow on")).to_be_visible()
    expect(page.get_by_label("Last day of access")).to_have_value("2020-01-01")
    assert not RemoteAccessGrant.objects.exists()


def test_confirmation_page_works_without_javascript(browser, live_server):
    account = AccountFactory(name="Acme Store")
    MembershipFactory(account=account, role=Role.OWNER, user__email="owner@acme.test")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        browser_login(page, "owner@acme.test", PASSWORD)
        page.goto("/settings/security/")
        page.get_by_role("radio", name="1 day").check()
        page.get_by_role("button", name="Save").click()
        # Without JavaScript the outcome is still in the panel the redirect scrolled to.
        outcome = page.locator("#remote-access [data-outcome]")
        expect(outcome).to_contain_text("Support access saved. Latchkey support can access")
        expect(outcome).to_be_in_viewport()
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_role("heading", name="Remove support access?")).to_be_visible()
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_text("Support access removed.")).to_be_visible()
        # On a phone the navigation folds behind Menu, which opens without JavaScript.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Segments")).to_be_hidden()
        page.get_by_role("button", name="Menu").click()
        expect(nav.get_by_role("link", name="Segments")).to_be_visible()
    finally:
        context.close()
    assert RemoteAccessGrant.objects.get().status == "revoked"
