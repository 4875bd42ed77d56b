"""The agent's admin Account page: status first, Enter account as the primary action, the
link to send when nothing is live, turn-off as a named action, times in the account's zone."""

import html

import pytest
from django.test import override_settings
from django.urls import reverse

from remote_access.timefmt import grant_end_phrase, moment
from tests.conftest import with_authenticator
from tests.remote_access.factories import GrantFactory, csm_user


def _page(client, account) -> str:
    response = client.get(reverse("admin:accounts_account_change", args=[account.pk]))
    assert response.status_code == 200
    return " ".join(html.unescape(response.content.decode()).split())


@pytest.fixture
def staff_client(support_staff, client_for):
    return client_for(support_staff)


@override_settings(SITE_URL="https://latchkey.example.com")
def test_no_grant__full_copyable_link_and_no_enter(staff_client, account):
    body = _page(staff_client, account)
    assert "No access" in body
    assert 'value="https://latchkey.example.com/grant-access" readonly' in body
    assert "Copy link" in body
    assert "Enter account is unavailable:" in body
    assert "rk-enter" not in body


def test_live__status_then_enter_account_as_the_primary_button(staff_client, account, owner):
    grant = GrantFactory(account=account, granted_by=owner)
    body = _page(staff_client, account)
    until = grant_end_phrase(grant)
    assert f"Live</strong> {until}, granted by Olivia Owner (owner@acme.test)" in body
    assert 'class="button default rk-enter">Enter account</a>' in body
    assert body.index("Remote Access</h2>") < body.index("Account name")


def test_times__in_the_account_zone_with_abbreviation(staff_client, account):
    body = _page(staff_client, account)
    assert moment(account.created_at, account.tzinfo) in body
    assert "EST" in body or "EDT" in body


def test_turn_off__a_plainly_named_action_for_those_allowed(client_for, account):
    csm = with_authenticator(csm_user())
    body = _page(client_for(csm), account)
    assert "<summary>Turn remote access off for good</summary>" in body
    assert "Remote access turned off</h2>" not in body, "no empty turned-off fieldset"


def test_turn_off__not_offered_to_support_without_the_permission(staff_client, account):
    assert "Turn remote access off for good" not in _page(staff_client, account)


def test_turned_off__says_by_whom_and_why_and_offers_turning_on(client_for, account):
    from remote_access.services import remote_access_disable

    csm = with_authenticator(csm_user())
    remote_access_disable(account=account, staff_user=csm, reason="Merchant asked by phone")
    body = _page(client_for(csm), account)
    assert "Turned off</strong> by" in body
    assert "because: “Merchant asked by phone”" in body
    enable = reverse("admin:accounts_account_enable_remote_access", args=[account.pk])
    assert f'formaction="{enable}"' in body
