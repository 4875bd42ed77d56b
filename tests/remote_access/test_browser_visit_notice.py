import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from remote_access.models import RepresentativeSession
from remote_access.services.staff import staff_member_set_team
from tests.accounts.factories import PASSWORD, AccountFactory, MembershipFactory, StaffUserFactory
from tests.conftest import browser_login, browser_login_staff, with_authenticator
from tests.remote_access.factories import GrantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "tests/screenshots"


def tab_to(page, text: str, *, limit: int = 40) -> None:
    """Press Tab until the focused control reads `text`: the keyboard alone, no mouse."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == text:
            return
    raise AssertionError(f"Tab never reached {text!r}")


def test_merchant_sees_support_inside_and_ends_the_visit_with_the_keyboard(browser, page):
    """The notice appears on the merchant's next page load while a representative is inside;
    End visit, confirmed with the keyboard alone, sends the representative back to admin."""
    account = AccountFactory(name="Acme Store", timezone="America/New_York")
    owner = MembershipFactory(
        account=account, role=Role.OWNER, user__email="owner@acme.test", user__full_name="Olivia"
    ).user
    GrantFactory(account=account, granted_by=owner)
    staff = StaffUserFactory(email="support@latchkey.test", full_name="Sam Support")
    staff_member_set_team(user=staff, team="Support")
    with_authenticator(staff)

    browser_login(page, owner.email, PASSWORD)
    page.goto("/audience/segments/")
    notice = page.get_by_role("region", name="Support is in your account")
    expect(notice).to_have_count(0)

    support = browser.new_context(base_url=page.url.split("/audience")[0])
    staff_page = support.new_page()
    staff_page.set_default_timeout(10_000)
    browser_login_staff(staff_page, staff, PASSWORD)
    staff_page.goto(f"/admin/accounts/account/{account.pk}/enter/")
    staff_page.get_by_label("Ticket reference").fill("4411")
    staff_page.get_by_role("button", name="Enter account").click()
    expect(staff_page.get_by_role("region", name="Support session")).to_be_visible()

    page.reload()
    expect(notice).to_contain_text("Latchkey Support (Sam) is in your account now · ticket 4411")
    page.screenshot(path=f"{SCREENSHOTS}/visit-notice.png", full_page=True)

    tab_to(page, "End visit")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="End this support visit?")).to_be_visible()
    tab_to(page, "Yes, end the visit")
    page.keyboard.press("Enter")
    expect(page.get_by_text("The support visit has ended")).to_be_visible()
    expect(notice).to_have_count(0)
    assert RepresentativeSession.objects.get().end_reason == "ended_by_merchant"

    staff_page.get_by_role("link", name="Segments").click()
    expect(staff_page.get_by_text("has ended: ended by the merchant")).to_be_visible()
    assert "/admin/accounts/account/" in staff_page.url
    support.close()
