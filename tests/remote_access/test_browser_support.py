import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from remote_access.services.staff import staff_member_set_team
from tests.accounts.factories import PASSWORD, AccountFactory, MembershipFactory, StaffUserFactory
from tests.audience.factories import SegmentFactory
from tests.conftest import browser_login, browser_login_staff, with_authenticator
from tests.remote_access.factories import GrantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "tests/screenshots"


def test_support_enters_is_refused_acts_exits_and_the_owner_reads_it(browser, live_server):
    account = AccountFactory(name="Acme Store", timezone="America/New_York")
    owner = MembershipFactory(
        account=account,
        role=Role.OWNER,
        user__email="owner@acme.test",
        user__full_name="Olivia Owner",
    ).user
    grant = GrantFactory(account=account, granted_by=owner)
    SegmentFactory(
        account=account,
        name="VIP customers",
        conditions=[{"field": "total_spent", "operator": "gte", "value": "1000"}],
    )
    staff = StaffUserFactory(email="support@latchkey.test", full_name="Sam Support")
    staff_member_set_team(user=staff, team="Support")
    with_authenticator(staff)

    support = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    page = support.new_page()
    page.set_default_timeout(10_000)
    browser_login_staff(page, staff, PASSWORD)
    page.get_by_role("rowheader", name="Accounts").get_by_role("link").click()
    expect(page.get_by_text(re.compile("Live until"))).to_be_visible()
    page.get_by_role("link", name="Acme Store").click()
    page.screenshot(path=f"{SCREENSHOTS}/admin-account-page.png", full_page=True)
    page.get_by_role("link", name="Enter account").click()

    page.get_by_role("button", name="Enter account").click()
    expect(page.get_by_text("Give the ticket this visit is for.")).to_be_visible()
    page.get_by_label("Ticket reference").fill("4411")
    page.get_by_role("button", name="Enter account").click()

    banner = page.get_by_role("region", name="Support session")
    expect(banner).to_contain_text("You are in Acme Store as Latchkey Support (Sam Support)")
    expect(banner).to_contain_text("access granted by Olivia Owner")

    # Restricted: the plan is never theirs to change, whatever they click or type.
    page.get_by_role("link", name="Settings").first.click()
    page.get_by_role("link", name="Billing").click()
    expect(page.get_by_text("Only Owners and Admins can change the plan.")).to_be_visible()
    page.goto("/settings/billing/change/pro/")
    expect(page.get_by_role("alert")).to_contain_text(
        "Support representatives can't change the billing plan"
    )
    # Nor is removing or extending their own access.
    page.goto(f"/settings/security/access/{grant.pk}/remove/")
    expect(page.get_by_role("alert")).to_contain_text(
        "Support representatives can't grant or remove support access"
    )
    expect(page.get_by_role("region", name="Support session")).to_be_visible()

    # What they came for: fix the segment.
    page.get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="VIP customers").click()
    page.get_by_label("Value of condition 1").fill("500")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Segment saved.")

    page.get_by_role("region", name="Support session").get_by_role("button", name="Exit").click()
    expect(page).to_have_url(re.compile(rf"/admin/accounts/account/{account.pk}/change/$"))
    expect(page.get_by_text("You have left Acme Store.")).to_be_visible()
    support.close()

    merchant = browser.new_context(base_url=live_server.url)
    page = merchant.new_page()
    page.set_default_timeout(10_000)
    browser_login(page, "owner@acme.test", PASSWORD)
    page.goto("/settings/security/")
    history = page.get_by_role("region", name="Access history")
    expect(history).to_contain_text("Sam from Support entered the account — ticket #4411")
    expect(history).to_contain_text("Sam tried to change the billing plan — refused")
    expect(history).to_contain_text("Sam tried to grant or remove support access — refused")
    expect(history).to_contain_text("Sam edited segment VIP customers")
    expect(history).to_contain_text("Sam from Support left the account")
    page.screenshot(path=f"{SCREENSHOTS}/security-tab-history.png", full_page=True)
    merchant.close()
