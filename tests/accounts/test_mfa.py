import base64
import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actors import MemberActor
from accounts.authorization import MFA_REQUIRED
from accounts.errors import ApplicationError
from accounts.models import Membership, TeamEvent
from accounts.roles import Role
from accounts.services.mfa import (
    ONLY_OWNERS_RESET_OWNERS,
    PASSWORD_FAILURE_LIMIT,
    SETUP_SECONDS,
    SIGN_IN_CHANGE_MAIL,
    TOO_MANY_PASSWORDS,
    TOO_MANY_TRIES,
    WRONG_CODE,
    WRONG_PASSWORD,
    mfa_reset_member,
    mfa_setup_begin,
    mfa_setup_key,
)
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.conftest import with_authenticator

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


def setup_secret(client, **proof) -> str:
    """Prove who one is on the setup page (the password by default); the new secret shown."""
    response = client.post(SETUP, proof or {"current-password": PASSWORD})
    assert response.status_code == 302, response
    return client.get(SETUP).context["secret"]


@pytest.fixture
def owner_with_mfa(owner, owner_client, frozen):
    """The owner turned MFA on through the setup page; returns their confirmed device."""
    secret = setup_secret(owner_client)
    owner_client.post(SETUP, {"code": code_from_secret(secret)})
    frozen.move_to(NOW + dt.timedelta(minutes=1), tick=False)  # a fresh code for the next step
    owner_client.logout()
    return TOTPDevice.objects.get(user=owner, confirmed=True)


def test_setup__shows_qr_and_secret_then_confirms_with_a_code(
    owner, owner_client, frozen, django_capture_on_commit_callbacks
):
    first = owner_client.get(SETUP)
    assert "secret" not in first.context  # nothing before the password
    wrong = owner_client.post(SETUP, {"current-password": "not it"})
    assert wrong.status_code == 400
    assert str(WRONG_PASSWORD) in text(wrong)
    assert "secret" not in wrong.context
    assert owner_client.post(SETUP, {"current-password": PASSWORD}).status_code == 302
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

    with django_capture_on_commit_callbacks(execute=True):
        done = owner_client.post(SETUP, {"code": right})
    assert done.status_code == 200
    assert mail.outbox[-1].to == ["owner@acme.test"]
    assert mail.outbox[-1].subject == str(SIGN_IN_CHANGE_MAIL["on"][0]) % {"vendor": "Latchkey"}
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


def test_turn_off__needs_a_current_code_and_mails(
    owner_with_mfa, owner, client_for, frozen, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    response = client.post(reverse("accounts:mfa_turn_off"), {"code": "000000"})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=owner).exists()
    frozen.move_to(NOW + dt.timedelta(minutes=2), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:mfa_turn_off"), {"code": code_for(owner_with_mfa)})
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert not StaticDevice.objects.filter(user=owner).exists()
    assert mail.outbox[-1].subject == "Two-factor sign-in is off for your Latchkey account"


def test_replace__a_wrong_code_reveals_no_new_secret(owner_with_mfa, owner, client_for, frozen):
    """Finding 2: a signed-in session alone (a wrong code, or none) never gets a new secret
    and never replaces the authenticator."""
    client = client_for(owner)
    wrong = client.post(SETUP, {"current-code": "000000"})
    assert str(WRONG_CODE) in text(wrong)
    for response in (
        wrong,
        client.get(SETUP),
        client.post(SETUP, {"code": "000000"}),  # the old attack: any code, then the secret
        client.post(SETUP, {"current-password": PASSWORD}),  # the password is not the factor
    ):
        assert "secret" not in response.context
        assert "data:image/svg+xml" not in text(response)
    assert TOTPDevice.objects.get(user=owner) == owner_with_mfa


def test_replace__with_the_current_code_swaps_app_and_codes_and_mails(
    owner_with_mfa, owner, client_for, frozen, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    old_recovery = StaticDevice.objects.get(user=owner).token_set.first().token
    secret = setup_secret(client, **{"current-code": code_for(owner_with_mfa)})
    frozen.move_to(NOW + dt.timedelta(minutes=2), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(SETUP, {"code": code_from_secret(secret)})
    assert len(done.context["codes"]) == 10
    device = TOTPDevice.objects.get(user=owner)
    assert device.pk != owner_with_mfa.pk
    assert base64.b32decode(secret) == device.bin_key
    assert not StaticDevice.objects.get(user=owner).token_set.filter(token=old_recovery).exists()
    assert mail.outbox[-1].subject == "Your Latchkey authenticator app was replaced"


def test_replace__a_recovery_code_proves_it_too(owner_with_mfa, owner, client_for, frozen):
    """Lost phone, still signed in: a recovery code starts the replacement."""
    client = client_for(owner)
    recovery = StaticDevice.objects.get(user=owner).token_set.first().token
    secret = setup_secret(client, **{"current-code": recovery})
    client.post(SETUP, {"code": code_from_secret(secret)})
    assert base64.b32decode(secret) == TOTPDevice.objects.get(user=owner).bin_key


def test_setup__the_proof_lasts_ten_minutes(owner, owner_client, frozen):
    setup_secret(owner_client)
    frozen.move_to(NOW + dt.timedelta(minutes=SETUP_SECONDS // 60, seconds=1), tick=False)
    response = owner_client.get(SETUP)
    assert "secret" not in response.context
    assert response.templates[0].name == "accounts/mfa_setup_start.html"


def test_setup_ticket__belongs_to_one_user(owner, admin, frozen):
    ticket = mfa_setup_begin(user=owner, password=PASSWORD)
    assert mfa_setup_key(user=owner, ticket=ticket)
    assert mfa_setup_key(user=admin, ticket=ticket) is None
    assert mfa_setup_key(user=owner, ticket=ticket + "x") is None


def test_recovery_codes__renewed_for_a_current_code_and_mailed(
    owner_with_mfa, owner, client_for, frozen, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    url = reverse("accounts:mfa_recovery_codes")
    old = set(StaticDevice.objects.get(user=owner).token_set.values_list("token", flat=True))
    wrong = client.post(url, {"codes-code": "000000"})
    assert wrong.status_code == 400
    assert str(WRONG_CODE) in text(wrong)
    frozen.move_to(NOW + dt.timedelta(minutes=2), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"codes-code": code_for(owner_with_mfa)})
    new = set(done.context["codes"])
    assert len(new) == 10
    assert not new & old
    assert mail.outbox[-1].subject == "New recovery codes for your Latchkey account"


def test_wrong_passwords__locked_after_five(owner, owner_client):
    for _attempt in range(PASSWORD_FAILURE_LIMIT):
        owner_client.post(SETUP, {"current-password": "guess"})
    response = owner_client.post(SETUP, {"current-password": PASSWORD})
    assert str(TOO_MANY_PASSWORDS) in text(response)
    assert "secret" not in response.context


def test_reset_member_mfa__removes_devices_mails_and_logs(
    owner, admin, client_for, account, django_capture_on_commit_callbacks
):
    with_authenticator(admin)
    member = Membership.objects.get(user=admin, account=account)
    url = reverse("accounts:member_reset_mfa", args=[member.pk])
    confirm = client_for(owner).get(url)
    assert "Reset two-factor sign-in of Adam Admin?" in text(confirm)
    assert TOTPDevice.objects.filter(user=admin).exists()  # GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        client_for(owner).post(url)
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert mail.outbox[-1].to == ["admin@acme.test"]
    assert "was reset" in mail.outbox[-1].subject
    assert TeamEvent.objects.filter(
        summary="Olivia Owner reset two-factor sign-in of Adam Admin"
    ).exists()


def test_reset_owner_mfa__only_by_an_owner(owner, admin, client_for, account):
    """Finding 7: an Admin can neither see nor use Reset on an Owner's row; an Owner can."""
    with_authenticator(owner)
    second_owner = with_authenticator(
        MembershipFactory(account=account, role=Role.OWNER, user__full_name="Otto Owner").user
    )
    member_id = second_owner.memberships.get().pk
    url = reverse("accounts:member_reset_mfa", args=[member_id])
    admin_client = client_for(admin)
    assert url not in text(admin_client.get(reverse("accounts:settings_team")))
    for method in ("get", "post"):
        refused = getattr(admin_client, method)(url)
        assert refused.status_code == 403
        assert str(ONLY_OWNERS_RESET_OWNERS) in text(refused)
    assert TOTPDevice.objects.filter(user=second_owner).exists()
    admin_actor = MemberActor.for_membership(user=admin, account=account, role=Role.ADMIN)
    with pytest.raises(ApplicationError, match=str(ONLY_OWNERS_RESET_OWNERS)):
        mfa_reset_member(account=account, actor=admin_actor, member_id=member_id)

    owner_client = client_for(owner)
    assert url in text(owner_client.get(reverse("accounts:settings_team")))
    assert owner_client.post(url).status_code == 302
    assert not TOTPDevice.objects.filter(user=second_owner).exists()


def test_required_mfa__member_without_it_is_sent_to_setup(owner, analyst, client_for, account):
    client_for(owner).post(reverse("accounts:mfa_policy"), {"require_mfa": "on"})
    client = client_for(analyst)
    response = client.get("/settings/")
    assert response.status_code == 302
    assert response.url == SETUP
    setup = client.get(SETUP)
    assert str(MFA_REQUIRED) in text(setup)
    client.post(SETUP, {"code": code_from_secret(setup_secret(client))})
    assert client.get("/settings/").status_code == 200
