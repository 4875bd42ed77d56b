import base64
import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.authorization import MFA_REQUIRED
from accounts.models import Membership, TeamEvent
from accounts.services.mfa import TOO_MANY_TRIES, WRONG_CODE
from tests.accounts.factories import PASSWORD

SETUP = reverse("accounts:mfa_setup")
LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:login_verify")
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def code_for(device, at=None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if at is not None:
        totp.time = at.timestamp()
    return f"{totp.token():0{device.digits}d}"


def code_from_secret(secret: str) -> str:
    totp = TOTP(base64.b32decode(secret))
    return f"{totp.token():06d}"


def text(response):
    return response.content.decode().replace("&#x27;", "'")


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def owner_with_mfa(owner, owner_client, frozen):
    """The owner turned MFA on through the setup page; returns their confirmed device."""
    secret = owner_client.get(SETUP).context["secret"]
    owner_client.post(SETUP, {"code": code_from_secret(secret)})
    frozen.move_to(NOW + dt.timedelta(minutes=1), tick=False)  # a fresh code for the next step
    owner_client.logout()
    return TOTPDevice.objects.get(user=owner, confirmed=True)


def test_setup__shows_qr_and_secret_then_confirms_with_a_code(owner, owner_client, frozen):
    page = owner_client.get(SETUP)
    assert not TOTPDevice.objects.exists()  # looking at the QR code changes nothing
    body = text(page)
    assert 'src="data:image/svg+xml;base64,' in body
    secret = page.context["secret"]
    assert secret in body
    assert owner_client.get(SETUP).context["secret"] == secret  # stable while setting up

    right = code_from_secret(secret)
    wrong = owner_client.post(SETUP, {"code": "000000" if right != "000000" else "111111"})
    assert wrong.status_code == 400
    assert str(WRONG_CODE) in text(wrong)
    assert not TOTPDevice.objects.exists()

    done = owner_client.post(SETUP, {"code": right})
    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    device = TOTPDevice.objects.get(user=owner)
    assert device.confirmed
    assert base64.b32decode(secret) == device.bin_key
    assert StaticDevice.objects.get(user=owner).token_set.count() == 10


def test_login__asks_for_the_code_after_the_password(owner_with_mfa, client):
    response = client.post(LOGIN, {"username": "owner@acme.test", "password": PASSWORD})
    assert response.url.startswith(VERIFY)
    assert "_auth_user_id" not in client.session  # not signed in on the password alone
    assert client.get("/").status_code == 302

    response = client.post(response.url, {"code": code_for(owner_with_mfa)})
    assert response.url == "/"
    assert client.get("/").status_code == 200
    assert client.get("/").wsgi_request.user.is_verified()


def test_login__wrong_code_refused_and_slowed_down(owner_with_mfa, client, frozen):
    client.post(LOGIN, {"username": "owner@acme.test", "password": PASSWORD})
    response = client.post(VERIFY, {"code": "12345"})
    assert response.status_code == 400
    assert str(WRONG_CODE) in text(response)
    # Straight away, even the right code waits: failures are throttled.
    response = client.post(VERIFY, {"code": code_for(owner_with_mfa)})
    assert str(TOO_MANY_TRIES) in text(response)
    assert "_auth_user_id" not in client.session
    frozen.move_to(NOW + dt.timedelta(minutes=1, seconds=3), tick=False)
    assert client.post(VERIFY, {"code": code_for(owner_with_mfa)}).status_code == 302


def test_login__replayed_code_refused(owner_with_mfa, client):
    code = code_for(owner_with_mfa)
    client.post(LOGIN, {"username": "owner@acme.test", "password": PASSWORD})
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.logout()
    client.post(LOGIN, {"username": "owner@acme.test", "password": PASSWORD})
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_login__recovery_code_works_once(owner_with_mfa, owner, client, frozen):
    recovery = StaticDevice.objects.get(user=owner).token_set.first().token
    client.post(LOGIN, {"username": "owner@acme.test", "password": PASSWORD})
    assert client.post(VERIFY, {"code": recovery}).status_code == 302
    client.logout()
    frozen.move_to(NOW + dt.timedelta(minutes=5), tick=False)
    client.post(LOGIN, {"username": "owner@acme.test", "password": PASSWORD})
    assert client.post(VERIFY, {"code": recovery}).status_code == 400


def test_login__code_page_without_password_step_sends_back(client, db):
    assert client.get(VERIFY).url == LOGIN


def test_turn_off__needs_a_current_code(owner_with_mfa, owner, client_for, frozen):
    client = client_for(owner)
    response = client.post(reverse("accounts:mfa_turn_off"), {"code": "000000"})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=owner).exists()
    frozen.move_to(NOW + dt.timedelta(minutes=2), tick=False)
    client.post(reverse("accounts:mfa_turn_off"), {"code": code_for(owner_with_mfa)})
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert not StaticDevice.objects.filter(user=owner).exists()


def test_reset_member_mfa__removes_devices_mails_and_logs(
    owner_with_mfa, owner, admin, client_for, account, django_capture_on_commit_callbacks
):
    member = Membership.objects.get(user=owner, account=account)
    confirm = client_for(admin).get(reverse("accounts:member_reset_mfa", args=[member.pk]))
    assert "Reset two-factor sign-in of Olivia Owner?" in text(confirm)
    assert TOTPDevice.objects.filter(user=owner).exists()  # GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        client_for(admin).post(reverse("accounts:member_reset_mfa", args=[member.pk]))
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert mail.outbox[-1].to == ["owner@acme.test"]
    assert "was reset" in mail.outbox[-1].subject
    assert TeamEvent.objects.filter(
        summary="Adam Admin reset two-factor sign-in of Olivia Owner"
    ).exists()


def test_required_mfa__member_without_it_is_sent_to_setup(owner, analyst, client_for, account):
    client_for(owner).post(reverse("accounts:mfa_policy"), {"require_mfa": "on"})
    client = client_for(analyst)
    response = client.get("/settings/")
    assert response.status_code == 302
    assert response.url == SETUP
    setup = client.get(SETUP)
    assert str(MFA_REQUIRED) in text(setup)
    client.post(SETUP, {"code": code_from_secret(setup.context["secret"])})
    assert client.get("/settings/").status_code == 200
