"""The three ways access starts, end to end in a browser: support asks and the merchant
approves (or denies); the merchant grants with a support request, until it is resolved."""

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from remote_access.services.staff import staff_member_set_team
from tests.accounts.factories import PASSWORD, AccountFactory, MembershipFactory, StaffUserFactory
from tests.conftest import browser_login, browser_login_staff, with_authenticator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme():
    account = AccountFactory(name="Acme Store", timezone="America/New_York")
    MembershipFactory(
        account=account,
        role=Role.OWNER,
        user__email="owner@acme.test",
        user__full_name="Olivia Owner",
    )
    return account


@pytest.fixture
def sam():
    staff = StaffUserFactory(email="support@latchkey.test", full_name="Sam Support")
    staff_member_set_team(user=staff, team="Support")
    return with_authenticator(staff)


def _context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _ask(page, account, *, scope="Full access"):
    page.goto(f"/admin/accounts/account/{account.pk}/change/")
    page.get_by_role("link", name="Ask for access").click()
    page.get_by_label("Ticket reference").fill("4411")
    page.get_by_label("What you need to look at").fill("segment VIP shows 0 profiles")
    page.get_by_label(scope).check()
    page.get_by_role("button", name="Ask for access").click()
    expect(page.get_by_text("waiting for the merchant")).to_be_visible()


def test_support_asks_the_owner_approves_and_support_enters(browser, live_server, acme, sam):
    support, staff_page = _context(browser, live_server)
    browser_login_staff(staff_page, sam, PASSWORD)
    _ask(staff_page, acme, scope="View only")

    merchant, page = _context(browser, live_server)
    browser_login(page, "owner@acme.test", PASSWORD)
    page.goto("/settings/security/")
    requests = page.get_by_role("region", name="Requests for access")
    expect(requests).to_contain_text(
        "Sam from Latchkey Support asks for 7 days of access (view only) to Acme Store for "
        "ticket 4411"
    )
    expect(requests.get_by_label("View only", exact=True)).to_be_checked()
    # The custom date appears with "Custom date" in this form too (its fields are prefixed).
    requests.get_by_label("Custom date", exact=True).check()
    expect(requests.get_by_label("Last day of access")).to_be_visible()
    requests.get_by_label("1 day", exact=True).check()
    expect(requests.get_by_label("Last day of access")).to_be_hidden()
    requests.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Request approved")
    expect(page.get_by_role("region", name="Requests for access")).to_have_count(0)
    remote_access = page.locator("#remote-access")
    expect(remote_access).to_contain_text("Access is on")
    expect(remote_access).to_contain_text("View only")
    expect(remote_access).to_contain_text("Sam Support, for ticket 4411")
    merchant.close()

    staff_page.reload()
    expect(staff_page.get_by_text(re.compile("approved by Olivia Owner"))).to_be_visible()
    staff_page.get_by_role("link", name="Enter account").click()
    staff_page.get_by_label("Ticket reference").fill("4411")
    staff_page.get_by_role("button", name="Enter account").click()
    banner = staff_page.get_by_role("region", name="Support session")
    expect(banner).to_contain_text("access granted by Olivia Owner")
    expect(banner).to_contain_text("view only")
    support.close()


def test_support_asks_the_owner_denies_and_support_cannot_enter(browser, live_server, acme, sam):
    support, staff_page = _context(browser, live_server)
    browser_login_staff(staff_page, sam, PASSWORD)
    _ask(staff_page, acme)

    merchant, page = _context(browser, live_server)
    browser_login(page, "owner@acme.test", PASSWORD)
    page.goto("/settings/security/")
    requests = page.get_by_role("region", name="Requests for access")
    requests.get_by_label("Reason (optional)").fill("We found the problem ourselves")
    requests.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("status")).to_contain_text("Request denied")
    expect(page.locator("#remote-access")).to_contain_text("No access")
    merchant.close()

    staff_page.reload()
    state = staff_page.locator("#rk-access-request")
    expect(state).to_contain_text("denied by Olivia Owner")
    expect(state).to_contain_text("We found the problem ourselves")
    expect(staff_page.get_by_role("link", name="Enter account")).to_have_count(0)
    staff_page.goto(f"/admin/accounts/account/{acme.pk}/enter/")
    expect(staff_page.get_by_text("The merchant has not granted access")).to_be_visible()
    support.close()


def test_owner_grants_until_resolved_and_resolving_ends_the_visit(browser, live_server, acme, sam):
    merchant, page = _context(browser, live_server)
    browser_login(page, "owner@acme.test", PASSWORD)
    page.goto("/help/contact/")
    page.get_by_label("Subject").fill("VIP segment")
    page.get_by_label("Message").fill("It shows 0 profiles")
    page.get_by_label("Until this request is resolved (at most 30 days)").check()
    page.get_by_role("button", name="Send").click()
    heading = page.get_by_role("heading", name=re.compile(r"Request #\d+ sent"))
    number = re.search(r"#(\d+)", heading.inner_text()).group(1)
    expect(page.get_by_text(f"until request #{number} is resolved (at the latest")).to_be_visible()

    support, staff_page = _context(browser, live_server)
    browser_login_staff(staff_page, sam, PASSWORD)
    staff_page.goto(f"/admin/accounts/account/{acme.pk}/enter/")
    staff_page.get_by_label("Ticket reference").fill(number)
    staff_page.get_by_role("button", name="Enter account").click()
    expect(staff_page.get_by_role("region", name="Support session")).to_be_visible()

    csm = StaffUserFactory(email="csm@latchkey.test", full_name="Casey Success")
    staff_member_set_team(user=csm, team="Success")
    with_authenticator(csm)
    desk, desk_page = _context(browser, live_server)
    browser_login_staff(desk_page, csm, PASSWORD)
    desk_page.goto("/admin/remote_access/supportrequest/")
    desk_page.locator("input[name=_selected_action]").first.check()
    desk_page.locator("select[name=action]").select_option("mark_resolved")
    desk_page.locator("button[name=index]").click()
    expect(desk_page.get_by_text("1 marked resolved.")).to_be_visible()
    desk.close()

    staff_page.get_by_role("link", name="Segments").click()
    expect(staff_page).to_have_url(re.compile(rf"/admin/accounts/account/{acme.pk}/change/$"))
    expect(
        staff_page.get_by_text(
            "Your visit to Acme Store has ended: the support request was resolved"
        )
    ).to_be_visible()
    support.close()

    page.goto("/settings/security/")
    history = page.get_by_role("region", name="Access history")
    expect(history).to_contain_text(f"marked support request #{number} resolved")
    merchant.close()
