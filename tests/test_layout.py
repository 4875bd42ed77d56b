"""Every merchant page, on a phone and on a desktop, as an Owner and as a support
representative: nothing scrolls sideways, axe-core finds no serious or critical problem, and
a screenshot of each is saved under tests/screenshots/ (the agents' admin pages too)."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.roles import Role
from accounts.services.integrations import integration_create
from remote_access.models import RepresentativeSession
from remote_access.services.staff import staff_member_set_team
from tests.accounts.factories import (
    PASSWORD,
    AccountFactory,
    MembershipFactory,
    StaffUserFactory,
    owner_actor,
)
from tests.audience.factories import ImportJobFactory, ProfileFactory, SegmentFactory
from tests.conftest import browser_login, browser_login_staff, with_authenticator
from tests.remote_access.factories import GrantFactory
from tests.test_journey import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("tests/screenshots")
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def _world() -> dict:
    account = AccountFactory(name="Acme Store", timezone="America/New_York")
    owner = MembershipFactory(
        account=account,
        role=Role.OWNER,
        user__email="owner@acme.test",
        user__full_name="Olivia Owner",
    ).user
    for role, email, name in (
        (Role.ADMIN, "admin.with.a.long.address@acme-store-example.test", "Adam Admin"),
        (Role.MANAGER, "manager@acme.test", "Maya Manager"),
    ):
        MembershipFactory(account=account, role=role, user__email=email, user__full_name=name)
    for n in range(3):
        ProfileFactory(account=account, total_spent=1250 * n)
    segment = SegmentFactory(account=account, name="VIP customers")
    job = ImportJobFactory(account=account, created_by=owner)
    integration_create(
        account=account,
        actor=owner_actor(account),
        name="Shop",
        store_url="https://shop.example",
        api_key="k-123",
        webhook_secret="w-456",
    )
    grant = GrantFactory(account=account, granted_by=owner)
    staff = StaffUserFactory(email="support@latchkey.test", full_name="Sam Support")
    staff_member_set_team(user=staff, team="Support")
    with_authenticator(staff)
    return {"account": account, "segment": segment, "job": job, "grant": grant, "staff": staff}


def _owner_pages(w: dict) -> list[str]:
    return [
        "/",
        "/audience/",
        "/audience/segments/",
        "/audience/segments/new/",
        f"/audience/segments/{w['segment'].pk}/",
        "/audience/import/",
        f"/audience/imports/{w['job'].pk}/",
        "/settings/",
        "/settings/team/",
        "/settings/billing/",
        "/settings/billing/change/pro/",
        "/settings/integrations/",
        "/settings/security/",
        f"/settings/security/access/{w['grant'].pk}/remove/",
        "/help/contact/",
        "/profile/",
    ]


REPRESENTATIVE_PAGES = [
    "/",
    "/audience/",
    "/audience/segments/",
    "/settings/",
    "/settings/team/",
    "/settings/billing/",
    "/settings/security/",
    "/help/contact/",
]


# The innermost elements that stick out on the right: what to fix when a page is too wide.
WIDE_ELEMENTS = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 5)
  .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "") + " "
    + Math.round(e.getBoundingClientRect().right))"""


def _check(page, path: str, who: str, size: str, problems: list[str]) -> None:
    """Visit `path`; add what is wrong with it to `problems` (all pages are seen first)."""
    page.goto(path)
    name = path.strip("/").replace("/", "-") or "home"
    page.screenshot(path=str(SCREENSHOTS / f"{size}-{who}-{name}.png"), full_page=True)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        culprits = page.evaluate(WIDE_ELEMENTS)
        problems.append(
            f"{who} {path}: the page is {widths[0]} px wide, the screen {widths[1]}: {culprits}"
        )
    try:
        assert_accessible(page, f"{who} {path}")
    except AssertionError as error:
        problems.append(str(error))


@pytest.mark.parametrize("size", list(WIDTHS))
def test_every_page__fits_the_screen_and_passes_axe(browser, live_server, size):
    """Owner pages, a representative's pages and the agents' admin pages at one width."""
    w = _world()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width, height = WIDTHS[size]
    contexts = []
    problems: list[str] = []

    def new_page():
        # bypass_csp lets the test inject axe-core; the site's own pages keep their CSP.
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}, bypass_csp=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    try:
        owner = new_page()
        browser_login(owner, "owner@acme.test", PASSWORD)
        for path in _owner_pages(w):
            _check(owner, path, "owner", size, problems)
        if size == "phone":
            # The navigation folds behind Menu and unfolds on a tap, without scrolling sideways.
            owner.goto("/")
            nav = owner.get_by_role("navigation", name="Main")
            expect(nav.get_by_role("link", name="Segments")).to_be_hidden()
            owner.get_by_role("button", name="Menu").click()
            expect(nav.get_by_role("link", name="Segments")).to_be_visible()
            # The Security tab is in view in its own strip.
            owner.goto("/settings/security/")
            expect(owner.get_by_role("link", name="Security")).to_be_in_viewport()
            # Save's outcome is on the screen without scrolling, and announced.
            owner.get_by_role("radio", name="30 days").check()
            owner.get_by_role("button", name="Save").click()
            expect(owner.get_by_role("status")).to_contain_text("Support access saved.")
            expect(owner.locator("[data-outcome]")).to_be_in_viewport()
            owner.screenshot(path=str(SCREENSHOTS / "phone-owner-security-saved.png"))
            # The account menu opens downwards from the top bar, on the screen.
            owner.get_by_role("button", name="Acme Store").click()
            expect(owner.get_by_role("button", name="Log out")).to_be_in_viewport()
            # The narrowest phones: still nothing scrolls sideways.
            owner.set_viewport_size({"width": 320, "height": 640})
            for path in _owner_pages(w):
                owner.goto(path)
                widths = owner.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                if widths[0] > widths[1]:
                    problems.append(f"owner {path} at 320 px: {owner.evaluate(WIDE_ELEMENTS)}")

        desk = new_page()
        browser_login_staff(desk, w["staff"], PASSWORD)
        change = reverse("admin:accounts_account_change", args=[w["account"].pk])
        for path in ("/admin/", reverse("admin:accounts_account_changelist"), change):
            _check(desk, path, "agent", size, problems)
        desk.goto(reverse("admin:accounts_account_enter", args=[w["account"].pk]))
        assert_accessible(desk, f"enter page at {size}")
        desk.get_by_label("Ticket reference").fill("4411")
        desk.get_by_role("button", name="Enter account").click()
        expect(desk.get_by_role("region", name="Support session")).to_be_visible()
        for path in REPRESENTATIVE_PAGES:
            _check(desk, path, "representative", size, problems)
            banner = desk.get_by_role("region", name="Support session").bounding_box()
            assert banner["y"] == 0, "the support banner sits at the very top"
        # While support is inside, the Owner's page that ends the visit (from the live notice).
        visit = RepresentativeSession.objects.get(account=w["account"], ended_at__isnull=True)
        owner.set_viewport_size({"width": width, "height": height})  # the phone's went to 320
        _check(owner, reverse("remote_access:visit_end", args=[visit.pk]), "owner", size, problems)
        assert problems == [], "\n".join(problems)
    finally:
        for context in contexts:
            context.close()
