"""The whole story in one browser journey, with screenshots and accessibility checks."""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.roles import Role
from remote_access.services.staff import staff_member_set_team
from tests.accounts.factories import PASSWORD, AccountFactory, MembershipFactory, StaffUserFactory
from tests.audience.factories import SegmentFactory
from tests.conftest import browser_login, browser_login_staff, with_authenticator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("tests/screenshots")
AXE = Path("node_modules/axe-core/axe.min.js")


def assert_accessible(page, what: str) -> None:
    """axe-core finds no serious or critical violation on the page."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install` (it needs npm)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{what}: " + json.dumps(
        [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in serious], indent=1
    )


def test_owner_grants_by_support_request_support_visits_owner_reads_and_removes(
    browser, live_server
):
    account = AccountFactory(name="Acme Store", timezone="America/New_York")
    MembershipFactory(
        account=account,
        role=Role.OWNER,
        user__email="owner@acme.test",
        user__full_name="Olivia Owner",
    )
    SegmentFactory(
        account=account,
        name="VIP customers",
        conditions=[{"field": "total_spent", "operator": "gte", "value": "1000"}],
    )
    staff = StaffUserFactory(email="support@latchkey.test", full_name="Sam Support")
    staff_member_set_team(user=staff, team="Support")
    with_authenticator(staff)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # bypass_csp lets the test inject axe-core; the site's own pages keep their CSP.
    owner = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    page = owner.new_page()
    page.set_default_timeout(10_000)
    browser_login(page, "owner@acme.test", PASSWORD)

    # 1. The owner asks for help and grants 7 days in the same form.
    page.get_by_role("link", name="Help").click()
    assert_accessible(page, "contact form")
    page.get_by_label("Subject").fill("VIP segment shows 0 members")
    page.get_by_label("Message").fill("Since this morning the VIP customers segment is empty.")
    page.get_by_role("radio", name="7 days").check()
    page.screenshot(path=str(SCREENSHOTS / "contact-form.png"), full_page=True)
    page.get_by_role("button", name="Send").click()
    heading = page.get_by_role("heading", name=re.compile(r"Request #\d+ sent"))
    expect(heading).to_be_visible()
    ticket = re.search(r"#(\d+)", heading.inner_text()).group(1)
    expect(page.get_by_text("Access is on")).to_be_visible()

    page.goto("/settings/security/")
    assert_accessible(page, "security tab")
    page.screenshot(path=str(SCREENSHOTS / "security-tab.png"), full_page=True)

    # 2. Support signs in with two-factor, enters with the ticket number, is refused, helps.
    support = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    desk = support.new_page()
    desk.set_default_timeout(10_000)
    browser_login_staff(desk, staff, PASSWORD)
    desk.goto(reverse("admin:accounts_account_change", args=[account.pk]))
    desk.screenshot(path=str(SCREENSHOTS / "admin-account-page.png"), full_page=True)
    desk.get_by_role("link", name="Enter account").click()
    desk.get_by_label("Ticket reference").fill(ticket)
    desk.get_by_role("button", name="Enter account").click()
    expect(desk.get_by_role("region", name="Support session")).to_contain_text(
        "as Latchkey Support (Sam Support)"
    )
    desk.goto("/settings/billing/change/pro/")
    expect(desk.get_by_role("alert")).to_contain_text(
        "Support representatives can't change the billing plan"
    )
    desk.get_by_role("link", name="Segments").click()
    desk.get_by_role("link", name="VIP customers").click()
    desk.get_by_label("Value of condition 1").fill("500")
    desk.get_by_role("button", name="Save").click()
    expect(desk.get_by_role("status")).to_contain_text("Segment saved.")
    desk.screenshot(path=str(SCREENSHOTS / "support-banner.png"))
    desk.get_by_role("region", name="Support session").get_by_role("button", name="Exit").click()
    expect(desk.get_by_text("You have left Acme Store.")).to_be_visible()

    # 3. The owner reads every step, then removes access.
    page.goto("/settings/security/")
    history = page.get_by_role("region", name="Access history")
    expect(history).to_contain_text(
        re.compile(
            rf"Olivia Owner granted access for 7 days \(until .+\) with support request #{ticket}"
        )
    )
    for line in (
        f"Sam from Support entered the account — ticket #{ticket}",
        "Sam tried to change the billing plan — refused",
        "Sam edited segment VIP customers",
        "Sam from Support left the account",
    ):
        expect(history).to_contain_text(line)
    page.get_by_role("region", name="Latchkey Remote Access").get_by_role(
        "button", name="Remove"
    ).click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_contain_text("Support access removed.")

    # 4. Support can no longer enter.
    desk.goto(reverse("admin:accounts_account_change", args=[account.pk]))
    expect(desk.get_by_text("Enter account is unavailable")).to_be_visible()
    desk.goto(reverse("admin:accounts_account_enter", args=[account.pk]))
    expect(desk.get_by_role("alert")).to_contain_text("has not granted access")
    support.close()
    owner.close()
