"""Merchant sessions end (security review, finding 8): after SESSION_IDLE without a request,
SESSION_MAX after signing in however busy; and anyone can sign out of every other session."""

import datetime as dt

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.middleware import SESSION_EXPIRED
from accounts.services.mfa import WRONG_CODE, WRONG_PASSWORD
from accounts.views.profile import OTHER_SESSIONS_ENDED
from tests.accounts.factories import PASSWORD
from tests.conftest import current_totp_code, with_authenticator

NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)
END_OTHERS = reverse("accounts:sessions_end_others")


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_idle_timeout__signs_a_merchant_out_after_12_quiet_hours(owner, clock):
    client = signed_in(owner)
    clock.move_to(NOW + dt.timedelta(hours=11, minutes=59), tick=False)
    assert client.get("/").status_code == 200  # still in, and the quiet time starts again
    clock.move_to(NOW + dt.timedelta(hours=23, minutes=58), tick=False)
    assert client.get("/").status_code == 200
    clock.move_to(NOW + dt.timedelta(hours=36), tick=False)
    response = client.get("/settings/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/settings/"
    assert "_auth_user_id" not in client.session
    assert str(SESSION_EXPIRED) in text(client.get(response.url))


def test_absolute_lifetime__14_days_however_busy(owner, clock):
    client = signed_in(owner)
    for hours in range(0, 14 * 24, 6):
        clock.move_to(NOW + dt.timedelta(hours=hours), tick=False)
        assert client.get("/").status_code == 200
    clock.move_to(NOW + dt.timedelta(days=14, seconds=1), tick=False)
    assert client.get("/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_limits__come_from_settings(owner, clock, settings):
    settings.SESSION_IDLE = dt.timedelta(hours=1)
    client = signed_in(owner)
    clock.move_to(NOW + dt.timedelta(minutes=61), tick=False)
    assert client.get("/").status_code == 302


def test_staff__keep_their_own_shorter_limits(support_staff, client_for, clock):
    client = client_for(support_staff)
    clock.move_to(NOW + dt.timedelta(minutes=31), tick=False)
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_sign_out_others__ends_every_other_session_keeps_this_one(
    owner, clock, django_capture_on_commit_callbacks
):
    here, laptop, phone = signed_in(owner), signed_in(owner), signed_in(owner)
    assert laptop.get("/").status_code == 200
    wrong = here.post(END_OTHERS, {"sessions-password": "nope"})
    assert wrong.status_code == 400
    assert str(WRONG_PASSWORD) in text(wrong)
    assert laptop.get("/").status_code == 200  # nothing changed

    with django_capture_on_commit_callbacks(execute=True):
        response = here.post(END_OTHERS, {"sessions-password": PASSWORD}, follow=True)
    assert str(OTHER_SESSIONS_ENDED) in text(response)
    assert here.get("/").status_code == 200
    for other in (laptop, phone):
        assert other.get("/").status_code == 302
    assert mail.outbox[-1].to == [owner.email]
    assert mail.outbox[-1].subject == "You were signed out of your other Latchkey sessions"
    owner.refresh_from_db()
    assert signed_in(owner).get("/").status_code == 200  # signing in again works as ever


def test_sign_out_others__a_current_code_works_too(owner, clock):
    with_authenticator(owner)
    here, other = signed_in(owner), signed_in(owner)
    assert str(WRONG_CODE) in text(here.post(END_OTHERS, {"sessions-code": "000000"}))
    clock.move_to(NOW + dt.timedelta(minutes=1), tick=False)
    here.post(END_OTHERS, {"sessions-code": current_totp_code(owner)})
    assert other.get("/").status_code == 302
    assert here.get("/").status_code == 200


def test_sign_out_others__needs_something_typed(owner_client):
    assert owner_client.post(END_OTHERS, {}).status_code == 400


def test_session_hash__unchanged_until_first_use(owner):
    """Sessions made before the generation existed stay valid: generation 0 is Django's hash."""
    assert owner.session_generation == 0
    assert owner.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(owner)


@pytest.mark.django_db
def test_sessions_signed_in_through_djangos_backend_stay_signed_in_after_the_migration(owner):
    """accounts.backends.UserBackend replaced Django's ModelBackend in the settings; the
    migration points existing sessions (and a sign-in waiting for its code) at it."""
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    migration = import_module("accounts.migrations.0009_sessions_on_user_backend")
    old = SessionStore()
    old[SESSION_KEY] = str(owner.pk)
    old[BACKEND_SESSION_KEY] = migration.OLD
    old[HASH_SESSION_KEY] = owner.get_session_auth_hash()
    old.create()
    waiting = SessionStore()
    waiting["mfa_pending"] = {"user_id": owner.pk, "backend": migration.OLD}
    waiting.create()
    client = Client()
    client.cookies["sessionid"] = old.session_key
    assert client.get(reverse("accounts:home")).status_code == 302, "signed out before"

    old = SessionStore()  # the visit above flushed it; sign it in again the old way
    old[SESSION_KEY] = str(owner.pk)
    old[BACKEND_SESSION_KEY] = migration.OLD
    old[HASH_SESSION_KEY] = owner.get_session_auth_hash()
    old.create()
    migration.point_sessions_at(migration.OLD, migration.NEW)(apps, None)

    client.cookies["sessionid"] = old.session_key
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 200
    assert response.wsgi_request.user == owner
    assert SessionStore(waiting.session_key).load()["mfa_pending"]["backend"] == migration.NEW
