"""Redis gone under a running site: every action still works and leaves its history.

The cache (rate-limit counters) and the broker point at a redis-server of the test's own,
which is killed before the requests are made; or at a socket that accepts and never answers.
"""

import datetime as dt
import logging
import time

import pytest
from django.urls import reverse

from remote_access.models import AccessEvent, RemoteAccessGrant, RepresentativeSession
from tests.accounts.factories import PASSWORD
from tests.remote_access.factories import GrantFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SECURITY = reverse("remote_access:security")
LOGIN = reverse("accounts:login")
# Generous: a stuck Redis used to cost about five seconds and then a 500; now each client
# gives up after half a second. No test asserts a precise time.
REQUEST_BOUND_SECONDS = 5


def remove_url(grant):
    return reverse("remote_access:grant_remove", args=[grant.pk])


def enter_url(account):
    return reverse("admin:accounts_account_enter", args=[account.pk])


def history(account):
    return list(account.access_events.order_by("id").values_list("kind", flat=True))


@pytest.fixture
def redis_killed(private_redis, use_redis):
    """The cache and the broker were on this Redis; it has just died."""
    use_redis(private_redis.url)
    private_redis.stop()
    return private_redis


@pytest.fixture
def live(account, owner):
    granted_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=granted_at,
        expires_at=granted_at + dt.timedelta(days=7),
    )


def test_redis_down__grant_and_remove_work_and_are_recorded(
    redis_killed, owner_client, account, caplog
):
    caplog.set_level(logging.WARNING)
    response = owner_client.post(SECURITY, {"duration": "7d"})
    assert response.status_code == 302
    grant = RemoteAccessGrant.objects.get(account=account, status="active")

    response = owner_client.post(remove_url(grant))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == "revoked"
    assert history(account) == [AccessEvent.Kind.GRANTED, AccessEvent.Kind.REMOVED]
    assert "Rate-limit cache unreachable" in caplog.text


def test_redis_down__sign_in_works(redis_killed, owner, client):
    response = client.post(LOGIN, {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_redis_down__lockout_still_counts_in_the_process(redis_killed, owner, client):
    """The limits get looser (per process), they do not vanish."""
    for _ in range(5):
        assert client.post(LOGIN, {"username": owner.email, "password": "guess"}).status_code == 200
    response = client.post(LOGIN, {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 429


def test_redis_down__staff_enter_account_and_visit_recorded(
    redis_killed, support_staff, client_for, account, live
):
    client = client_for(support_staff)
    response = client.post(enter_url(account), {"ticket_reference": "4411"})
    assert response.status_code == 302
    visit = RepresentativeSession.objects.get()
    assert (visit.staff_user, visit.account, visit.ended_at) == (support_staff, account, None)
    assert history(account) == [AccessEvent.Kind.SESSION_STARTED]
    # Inside the account: a page view is recorded too.
    assert client.get(SECURITY).status_code == 200


def test_redis_back__counting_returns_to_redis(private_redis, use_redis, owner, client):
    """Killed and started again: sign-in works throughout, and the counters are shared again."""
    import redis

    from accounts import ratelimit

    use_redis(private_redis.url)
    private_redis.stop()
    assert client.post(LOGIN, {"username": owner.email, "password": "guess"}).status_code == 200
    private_redis.start()
    ratelimit.in_process_counts_reset()  # instead of waiting CACHE_RETRY_SECONDS
    assert client.post(LOGIN, {"username": owner.email, "password": "guess"}).status_code == 200
    keys = redis.Redis.from_url(private_redis.url).keys("*ratelimit:login-email*")
    assert len(keys) == 1


def test_redis_stuck__requests_finish_quickly(silent_redis, use_redis, owner, owner_client, client):
    """A Redis that accepts connections and never answers costs a moment, not a hang."""
    use_redis(silent_redis.url)

    started = time.monotonic()
    response = owner_client.post(SECURITY, {"duration": "1d"})
    grant_seconds = time.monotonic() - started
    assert response.status_code == 302
    assert RemoteAccessGrant.objects.filter(status="active").count() == 1

    client.logout()
    started = time.monotonic()
    response = client.post(LOGIN, {"username": owner.email, "password": PASSWORD})
    sign_in_seconds = time.monotonic() - started
    assert response.status_code == 302
    assert grant_seconds < REQUEST_BOUND_SECONDS
    assert sign_in_seconds < REQUEST_BOUND_SECONDS
