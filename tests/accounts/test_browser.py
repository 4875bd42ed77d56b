import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from tests.accounts.factories import PASSWORD, AccountFactory, MembershipFactory
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_account_menu__reaches_settings_by_keyboard_and_mouse(page):
    """Sign in, open the account menu in the lower-left, reach Settings, switch accounts."""
    account = AccountFactory(name="Acme Store")
    other = AccountFactory(name="Globex")
    user = MembershipFactory(account=account, role=Role.OWNER, user__email="owner@acme.test").user
    MembershipFactory(account=other, user=user, role=Role.ANALYST)

    page.goto("/settings/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/settings/"))
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("don't match")
    expect(page.get_by_label("Email")).to_have_value("owner@acme.test")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()

    page.goto("/")
    menu_button = page.get_by_role("button", name="Acme Store")
    box = menu_button.bounding_box()
    assert box["x"] < 300
    assert box["y"] > 600, "the account menu sits in the lower-left corner"
    menu_button.focus()
    page.keyboard.press("Enter")
    menu = page.locator(".account-menu__panel")
    expect(menu.get_by_role("link", name="Settings")).to_be_visible()
    expect(menu.get_by_role("button", name="Log out")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    menu_button.click()
    page.locator(".account-menu__panel").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings/$"))
    expect(page.get_by_role("link", name="General")).to_have_attribute("aria-current", "page")

    page.get_by_role("button", name="Acme Store").click()
    page.get_by_role("button", name="Globex").click()
    expect(page.get_by_role("button", name="Globex")).to_be_visible()

    page.get_by_role("button", name="Globex").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_login_helper__signs_in(page):
    account = AccountFactory(name="Acme Store")
    MembershipFactory(account=account, role=Role.OWNER, user__email="owner@acme.test")
    browser_login(page, "owner@acme.test", PASSWORD)
    expect(page.get_by_role("heading", name="Acme Store")).to_be_visible()


def _code(secret: str, *, steps_ahead: int = 0) -> str:
    import base64
    import time

    from django_otp.oath import TOTP

    totp = TOTP(base64.b32decode(secret))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def test_mfa__turn_on_with_the_shown_secret_sign_out_and_back_in(page):
    """Enable two-factor by reading the key next to the QR code, then sign in with a code."""
    account = AccountFactory(name="Acme Store")
    MembershipFactory(account=account, role=Role.OWNER, user__email="owner@acme.test")
    browser_login(page, "owner@acme.test", PASSWORD)

    page.get_by_role("button", name="Acme Store").click()
    page.get_by_role("link", name="Your profile").click()
    page.get_by_role("link", name="Turn on two-factor sign-in").click()
    expect(page.get_by_label("Setup key")).to_have_count(0)  # nothing before the password
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(
        page.get_by_role("img", name="QR code to add this account to your authenticator app")
    ).to_be_visible()
    secret = page.get_by_label("Setup key").inner_text().strip()
    page.get_by_label("Code", exact=True).fill(_code(secret))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    expect(page.locator(".codes li")).to_have_count(10)

    page.get_by_role("button", name="Acme Store").click()
    page.get_by_role("button", name="Log out").click()
    browser_login(page, "owner@acme.test", PASSWORD)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    # The setup code was used in this 30-second step; the next step's code is accepted too.
    page.get_by_label("Code", exact=True).fill(_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Acme Store")).to_be_visible()
