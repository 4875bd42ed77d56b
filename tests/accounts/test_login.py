import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Account, Membership, User
from tests.accounts.factories import PASSWORD


def test_login__with_email_any_case(owner, client):
    response = client.post(
        reverse("accounts:login"), {"username": "OWNER@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == "/"


def test_login__wrong_password_says_so_and_keeps_email(owner, client):
    response = client.post(
        reverse("accounts:login"), {"username": "owner@acme.test", "password": "nope"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "That email and password don&#x27;t match an account." in body
    assert 'value="owner@acme.test"' in body
    assert "_auth_user_id" not in client.session


def test_login__next_is_followed_only_when_safe(owner, client):
    url = reverse("accounts:login")
    data = {"username": "owner@acme.test", "password": PASSWORD}
    assert client.post(f"{url}?next=/settings/", data).url == "/settings/"
    client.logout()
    assert client.post(f"{url}?next=https://evil.test/", data).url == "/"


def test_logout__needs_post(owner_client):
    assert owner_client.get(reverse("accounts:logout")).status_code == 405
    owner_client.post(reverse("accounts:logout"))
    assert owner_client.get("/").status_code == 302


def test_password_reset__mails_a_link(owner, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "owner@acme.test"})
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


def test_seed_demo__creates_contract_users_idempotently(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", password="pw-1234", stdout=io.StringIO())
    counts = (User.objects.count(), Account.objects.count(), Membership.objects.count())
    call_command("seed_demo", password="pw-1234", stdout=io.StringIO())
    assert (User.objects.count(), Account.objects.count(), Membership.objects.count()) == counts
    assert counts == (7, 2, 5)
    acme = Account.objects.get(name="Acme Store")
    roles = dict(acme.memberships.values_list("user__email", "role"))
    assert roles == {
        "owner@acme.test": "owner",
        "admin@acme.test": "admin",
        "manager@acme.test": "manager",
        "analyst@acme.test": "analyst",
    }
    assert Account.objects.get(name="Globex").memberships.get().user.email == "owner@globex.test"
    for email in ("support@latchkey.test", "csm@latchkey.test"):
        staff = User.objects.get(email=email)
        assert staff.is_staff
        assert staff.check_password("pw-1234")


def test_seed_demo__refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.exists()
