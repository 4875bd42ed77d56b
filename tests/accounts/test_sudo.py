"""Sudo mode: risky changes need the password (or a code) typed in the last SUDO_MINUTES; the
prompt keeps what the person typed and then makes the change as they asked."""

import datetime as dt
import html

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.context import context_of
from accounts.models import ApiKey
from accounts.services.mfa import PASSWORD_FAILURE_LIMIT, TOO_MANY_PASSWORDS, WRONG_PASSWORD
from accounts.sudo import SUDO_NOT_FOR_REPRESENTATIVES, sudo_active, sudo_required
from remote_access.models import RemoteAccessGrant, SupportRequest
from tests.accounts.factories import PASSWORD
from tests.conftest import current_totp_code, with_authenticator

NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)
PROMPT = "accounts/sudo_confirm.html"


def text(response) -> str:
    return html.unescape(response.content.decode())


def long_grant(account):
    return RemoteAccessGrant.objects.filter(account=account, status="active").exists()


# action → (url, what the person typed, whether it was done)
ACTIONS = {
    "grant_30_days": (
        lambda: reverse("remote_access:security"),
        lambda owner: {"duration": "30d", "current_grant": ""},
        lambda account: long_grant(account),
    ),
    "grant_custom_date_past_a_week": (
        lambda: reverse("remote_access:security"),
        lambda owner: {"duration": "custom", "last_day": "2026-12-20"},
        lambda account: long_grant(account),
    ),
    "contact_support_with_90_days": (
        lambda: reverse("remote_access:contact"),
        lambda owner: {
            "team": "support",
            "subject": "Orders <missing>",
            "message": "Line one\nline two & more",
            "duration": "90d",
        },
        lambda account: (
            SupportRequest.objects.filter(account=account).exists() and long_grant(account)
        ),
    ),
    "create_api_key": (
        lambda: reverse("accounts:api_key_create"),
        lambda owner: {"label": 'Warehouse "sync" <2>'},
        lambda account: ApiKey.objects.filter(account=account).exists(),
    ),
    "change_plan": (
        lambda: reverse("accounts:billing_change", args=["pro"]),
        lambda owner: {},
        lambda account: account.__class__.objects.get(pk=account.pk).plan == "pro",
    ),
    "turn_off_two_factor": (
        lambda: reverse("accounts:mfa_turn_off"),
        lambda owner: {"code": current_totp_code(owner)},
        lambda account: not TOTPDevice.objects.exists(),
    ),
}


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def stale_client(owner, client_for, clock):
    """The owner signed in (two-factor on) 16 minutes ago: sudo mode has lapsed."""
    with_authenticator(owner)
    client = client_for(owner)
    clock.move_to(NOW + dt.timedelta(minutes=16), tick=False)
    return client


def prompted(response) -> bool:
    return any(template.name == PROMPT for template in response.templates)


def assert_kept(response, typed: dict) -> None:
    body = text(response)
    for name, value in typed.items():
        assert f'name="{name}" value="{value}"' in body, name


@pytest.mark.parametrize("action", list(ACTIONS))
def test_sudo__prompt_then_wrong_then_right_password(action, stale_client, owner, account):
    url_of, typed_of, done_in = ACTIONS[action]
    url, typed = url_of(), typed_of(owner)

    prompt = stale_client.post(url, typed)
    assert prompt.status_code == 200
    assert prompted(prompt)
    assert_kept(prompt, typed)
    assert 'name="csrfmiddlewaretoken"' in text(prompt)
    assert not done_in(account)

    wrong = stale_client.post(url, {**typed, "sudo-password": "not my password"})
    assert wrong.status_code == 400
    assert str(WRONG_PASSWORD) in text(wrong)
    assert_kept(wrong, typed)
    assert "not my password" not in text(wrong)
    assert not done_in(account)

    right = stale_client.post(url, {**typed, "sudo-password": PASSWORD})
    assert right.status_code < 400
    assert done_in(account)


@pytest.mark.parametrize("action", [name for name in ACTIONS if name != "turn_off_two_factor"])
def test_sudo__lasts_15_minutes_then_asks_again(action, stale_client, owner, account, clock):
    url_of, typed_of, _done = ACTIONS[action]
    url, typed = url_of(), typed_of(owner)
    stale_client.post(url, {**typed, "sudo-password": PASSWORD})  # confirmed at +16 min
    clock.move_to(NOW + dt.timedelta(minutes=30), tick=False)
    again = stale_client.post(url, typed)
    assert not prompted(again)  # within 15 minutes: no prompt
    clock.move_to(NOW + dt.timedelta(minutes=32), tick=False)
    assert prompted(stale_client.post(url, typed))


def test_sudo__signing_in_counts_as_confirming(clock, owner, client_for, account):
    owner_client = client_for(owner)
    clock.move_to(NOW + dt.timedelta(minutes=14), tick=False)
    owner_client.post(reverse("accounts:api_key_create"), {"label": "CI"})
    assert ApiKey.objects.filter(account=account).exists()


def test_sudo__a_two_factor_code_confirms_too(stale_client, owner, account):
    url = reverse("accounts:api_key_create")
    stale_client.post(url, {"label": "CI", "sudo-code": current_totp_code(owner)})
    assert ApiKey.objects.filter(account=account).exists()


def test_sudo__turning_off_asks_the_password_only(stale_client, owner):
    """Its form carries a code already; a second code from the same app would be a replay."""
    prompt = stale_client.post(reverse("accounts:mfa_turn_off"), {"code": "123456"})
    assert 'name="sudo-password"' in text(prompt)
    assert 'name="sudo-code"' not in text(prompt)


@pytest.mark.parametrize(
    ("duration", "last_day"), [("1d", ""), ("7d", ""), ("custom", "2026-12-05")]
)
def test_sudo__a_week_or_less_needs_no_prompt(duration, last_day, stale_client, account):
    response = stale_client.post(
        reverse("remote_access:security"), {"duration": duration, "last_day": last_day}
    )
    assert response.status_code == 302
    assert long_grant(account)


def test_sudo__wrong_passwords_lock_the_prompt(stale_client, account):
    url = reverse("accounts:api_key_create")
    for _attempt in range(PASSWORD_FAILURE_LIMIT):
        stale_client.post(url, {"label": "x", "sudo-password": "guess"})
    locked = stale_client.post(url, {"label": "x", "sudo-password": PASSWORD})
    assert str(TOO_MANY_PASSWORDS) in text(locked)
    assert not ApiKey.objects.exists()


def test_sudo__never_for_a_representative(owner, db):
    """Whatever the session says, a request of a support visit gets no sudo and no prompt."""

    @sudo_required("do it")
    def view(request):
        raise AssertionError("the view must not run")

    request = RequestFactory().post("/x", {"sudo-password": PASSWORD})
    request.user = owner
    request.session = SessionStore()
    request.session["sudo_at"] = NOW.timestamp()
    context_of(request).visit = object()
    assert not sudo_active(request)
    response = view(request)
    assert response.status_code == 403
    assert str(SUDO_NOT_FOR_REPRESENTATIVES) in text(response)


def test_sudo__approving_an_access_request(stale_client, owner, account):
    """Letting support in is a risky change: a lapsed session confirms first, and what was
    chosen in the Approve form comes back intact."""
    from tests.remote_access.factories import AccessRequestFactory

    access_request = AccessRequestFactory(account=account)
    url = reverse("remote_access:access_request_approve", args=[access_request.pk])
    prefix = f"request-{access_request.pk}"
    typed = {f"{prefix}-duration": "1d", f"{prefix}-scope": "view_only"}

    prompt = stale_client.post(url, typed)
    assert prompted(prompt)
    assert_kept(prompt, typed)
    assert not long_grant(account)

    right = stale_client.post(url, {**typed, "sudo-password": PASSWORD})
    assert right.status_code < 400
    grant = RemoteAccessGrant.objects.get(account=account, status="active")
    assert (grant.duration, grant.scope) == ("1d", "view_only")
