"""During a support visit the browser acts in the merchant's account: it never reaches the
staff user's own profile, second factor or sessions (security review, finding 2)."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.authorization import OWN_SIGN_IN_DURING_VISIT
from remote_access.events import describe
from remote_access.models import AccessEvent
from tests.accounts.factories import PASSWORD
from tests.conftest import current_totp_code
from tests.remote_access.factories import GrantFactory
from tests.remote_access.test_support_sessions import enter_url
from tests.urlconf import merchant_views

OWN_PAGES = [
    ("accounts:profile", "get", {}),
    ("accounts:mfa_setup", "get", {}),
    ("accounts:mfa_setup", "post", {"current-code": "000000", "code": "000000"}),
    ("accounts:mfa_turn_off", "post", {"code": "000000"}),
    ("accounts:mfa_recovery_codes", "post", {"codes-code": "000000"}),
    ("accounts:sessions_end_others", "post", {"sessions-password": PASSWORD}),
]


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


@pytest.fixture
def rep_client(support_staff, client_for, account, owner):
    GrantFactory(account=account, granted_by=owner)
    client = client_for(support_staff)
    assert client.post(enter_url(account), {"ticket_reference": "4411"}).status_code == 302
    return client


def test_every_own_sign_in_view_is_listed_here():
    own = {
        name
        for name, pattern in merchant_views()
        if getattr(pattern.callback, "access", None)
        and pattern.callback.access.capability == "change_own_sign_in"
    }
    assert own == {name for name, _method, _data in OWN_PAGES}


@pytest.mark.parametrize(("name", "method", "data"), OWN_PAGES)
def test_representative__refused_own_profile_pages_and_recorded(
    name, method, data, rep_client, account, support_staff
):
    # Even the right code, typed in the visit's browser, changes nothing.
    if "code" in data:
        data = {**data, "code": current_totp_code(support_staff)}
    device = TOTPDevice.objects.get(user=support_staff)
    response = getattr(rep_client, method)(reverse(name), data)
    assert response.status_code == 403
    assert str(OWN_SIGN_IN_DURING_VISIT) in text(response)
    assert "secret" not in (response.context or {})
    assert TOTPDevice.objects.get(user=support_staff) == device
    blocked = account.access_events.filter(kind=AccessEvent.Kind.ACTION_BLOCKED)
    assert blocked.count() == 1
    assert "own profile" in describe(blocked.get())
    assert rep_client.get("/").status_code == 200  # the visit itself goes on


def test_staff_outside_a_visit__reach_their_profile(support_staff, client_for):
    assert client_for(support_staff).get(reverse("accounts:profile")).status_code == 200


def test_representative__sees_no_link_to_their_profile(rep_client):
    for url in ("/", reverse("accounts:settings_team")):
        assert reverse("accounts:profile") not in rep_client.get(url).content.decode()
