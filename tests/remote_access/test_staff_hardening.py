import time

import pytest
from django.urls import reverse

from accounts.middleware import AUTHENTICATED_AT, STAFF_LAST_SEEN
from remote_access.models import RepresentativeSession
from tests.accounts.factories import PASSWORD
from tests.remote_access.factories import GrantFactory


def enter_url(account):
    return reverse("admin:accounts_account_enter", args=[account.pk])


@pytest.fixture
def live(account, owner):
    return GrantFactory(account=account, granted_by=owner)


def set_session(client, **values):
    session = client.session
    session.update(values)
    session.save()


def text(response):
    return response.content.decode().replace("&#x27;", "'")


def test_staff_without_two_factor__cannot_enter(support_staff, client, account, live):
    support_staff.totpdevice_set.all().delete()
    client.force_login(support_staff)
    response = client.post(enter_url(account), {"ticket_reference": "1"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:mfa_setup"))  # set it up first
    assert not RepresentativeSession.objects.exists()


def test_staff_signed_in_without_the_code__cannot_enter(support_staff, client, account, live):
    client.force_login(support_staff)  # has an authenticator, but this sign-in did not use it
    response = client.post(enter_url(account), {"ticket_reference": "1"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))  # sign in again, with the code
    assert not RepresentativeSession.objects.exists()


def test_admin_login__goes_through_the_two_step_sign_in(client, support_staff):
    response = client.get("/admin/login/?next=/admin/")
    assert response.url == "/accounts/login/?next=/admin/"
    response = client.post(response.url, {"username": support_staff.email, "password": PASSWORD})
    assert response.url.startswith(reverse("accounts:login_verify"))


def test_staff_session__ends_after_30_idle_minutes(support_staff, client_for):
    client = client_for(support_staff)
    assert client.get("/admin/").status_code == 200
    set_session(client, **{STAFF_LAST_SEEN: time.time() - 31 * 60})
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_staff_session__ends_12_hours_after_sign_in_even_if_busy(support_staff, client_for):
    client = client_for(support_staff)
    set_session(
        client, **{AUTHENTICATED_AT: time.time() - 12 * 3600 - 1, STAFF_LAST_SEEN: time.time()}
    )
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_merchant_sessions__not_cut_by_staff_limits(owner, client_for):
    client = client_for(owner)
    set_session(client, **{AUTHENTICATED_AT: time.time() - 13 * 3600, STAFF_LAST_SEEN: time.time()})
    assert client.get("/").status_code == 200


def test_enter__asks_for_the_password_again_after_15_minutes(
    support_staff, client_for, account, live
):
    client = client_for(support_staff)
    set_session(client, **{AUTHENTICATED_AT: time.time() - 16 * 60})
    form = client.get(enter_url(account))
    assert "Your password" in text(form)
    missing = client.post(enter_url(account), {"ticket_reference": "1"})
    assert missing.status_code == 400
    wrong = client.post(enter_url(account), {"ticket_reference": "1", "password": "nope"})
    assert "That is not your password." in text(wrong)
    assert not RepresentativeSession.objects.exists()
    right = client.post(enter_url(account), {"ticket_reference": "1", "password": PASSWORD})
    assert right.status_code == 302
    assert RepresentativeSession.objects.filter(ended_at__isnull=True).count() == 1


def test_enter__no_password_needed_right_after_sign_in(support_staff, client_for, account, live):
    client = client_for(support_staff)
    assert "Your password" not in text(client.get(enter_url(account)))


def test_signing_out__ends_the_visit(support_staff, client_for, account, live):
    client = client_for(support_staff)
    client.post(enter_url(account), {"ticket_reference": "1"})
    client.post(reverse("admin:logout"))
    session = RepresentativeSession.objects.get()
    assert session.end_reason == RepresentativeSession.EndReason.SIGNED_OUT
    assert account.access_events.filter(kind="session_ended").count() == 1
    assert not account.access_events.filter(kind="action_performed").exists()


def test_enter__wrong_passwords_lock_the_prompt_as_sudo_mode_does(
    support_staff, client_for, account, live
):
    """Entering asks the password with the same check as sudo mode: after five wrong ones
    even the right one is refused for a while."""
    from accounts.services.mfa import PASSWORD_FAILURE_LIMIT, TOO_MANY_PASSWORDS

    client = client_for(support_staff)
    set_session(client, **{AUTHENTICATED_AT: time.time() - 16 * 60})
    for _ in range(PASSWORD_FAILURE_LIMIT):
        client.post(enter_url(account), {"ticket_reference": "1", "password": "nope"})
    locked = client.post(enter_url(account), {"ticket_reference": "1", "password": PASSWORD})
    assert locked.status_code == 400
    assert str(TOO_MANY_PASSWORDS) in text(locked)
    assert not RepresentativeSession.objects.exists()
