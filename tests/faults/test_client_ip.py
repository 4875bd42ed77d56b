"""Client IP behind proxies, and a sign-in lockout that one person's typos cannot spread.

Counted per email (LOGIN_FAILURES_PER_EMAIL) and, apart, per client IP with a much higher bar
(LOGIN_FAILURES_PER_IP); the IP is what `accounts.http.client_ip` makes of the request.
"""

import datetime as dt

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.http import client_ip
from accounts.views.auth import LOGIN_FAILURES_PER_EMAIL, LOGIN_FAILURES_PER_IP
from remote_access.models import RepresentativeSession
from tests.accounts.factories import PASSWORD
from tests.remote_access.factories import GrantFactory

LOGIN = reverse("accounts:login")
PROXY = "10.0.0.2"
OFFICE = "198.51.100.7"


def sign_in(client, email, password, **meta):
    return client.post(LOGIN, {"username": email, "password": password}, **meta)


def fail_from(client, count, **meta):
    """`count` failed sign-ins, each for a different unknown email."""
    for n in range(count):
        assert sign_in(client, f"nobody{n}@acme.test", "guess", **meta).status_code == 200


@pytest.mark.parametrize(
    ("proxies", "remote_addr", "forwarded", "expected"),
    [
        (0, OFFICE, None, OFFICE),
        (0, OFFICE, "203.0.113.66", OFFICE),  # written by the client: ignored
        (1, PROXY, "203.0.113.5", "203.0.113.5"),
        (1, PROXY, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # forged entry on the left
        (1, PROXY, "not-an-ip, 203.0.113.5", "203.0.113.5"),
        (2, PROXY, "6.6.6.6, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (1, PROXY, "2001:db8::7", "2001:db8::7"),
        (1, PROXY, None, PROXY),  # not through the proxy: a probe on the private network
        (2, PROXY, "203.0.113.5", PROXY),  # shorter than two proxies write: not believed
    ],
)
def test_client_ip__trusts_exactly_the_configured_proxies(
    settings, proxies, remote_addr, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_lockout__one_emails_typos_do_not_lock_another_email_on_the_same_ip(owner, admin, client):
    for _ in range(LOGIN_FAILURES_PER_EMAIL):
        assert sign_in(client, owner.email, "guess", REMOTE_ADDR=OFFICE).status_code == 200
    assert sign_in(client, owner.email, PASSWORD, REMOTE_ADDR=OFFICE).status_code == 429
    assert sign_in(client, admin.email, PASSWORD, REMOTE_ADDR=OFFICE).status_code == 302


def test_lockout__an_office_of_typos_does_not_lock_the_ip(admin, client):
    """Many colleagues behind one IP each mistyping a few times: nobody else is locked out."""
    for n in range(20):
        for _ in range(LOGIN_FAILURES_PER_EMAIL - 1):
            sign_in(client, f"colleague{n}@acme.test", "guess", REMOTE_ADDR=OFFICE)
    assert 20 * (LOGIN_FAILURES_PER_EMAIL - 1) < LOGIN_FAILURES_PER_IP
    assert sign_in(client, admin.email, PASSWORD, REMOTE_ADDR=OFFICE).status_code == 302


def test_lockout__many_emails_guessed_from_one_ip_lock_that_ip_only(admin, client):
    fail_from(client, LOGIN_FAILURES_PER_IP, REMOTE_ADDR=OFFICE)
    assert sign_in(client, admin.email, PASSWORD, REMOTE_ADDR=OFFICE).status_code == 429
    assert sign_in(client, admin.email, PASSWORD, REMOTE_ADDR="198.51.100.8").status_code == 302


def test_behind_one_proxy__forwarded_ips_are_counted_apart(settings, admin, client):
    settings.TRUSTED_PROXY_COUNT = 1
    fail_from(client, LOGIN_FAILURES_PER_IP, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    locked = sign_in(
        client, admin.email, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert locked.status_code == 429
    colleague = sign_in(
        client, admin.email, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.6"
    )
    assert colleague.status_code == 302


def test_no_proxy__a_forged_forwarded_for_does_not_escape_the_ip_lock(settings, admin, client):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(LOGIN_FAILURES_PER_IP):
        sign_in(
            client,
            f"nobody{n}@acme.test",
            "guess",
            REMOTE_ADDR=OFFICE,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n % 250}",
        )
    response = sign_in(
        client, admin.email, PASSWORD, REMOTE_ADDR=OFFICE, HTTP_X_FORWARDED_FOR="192.0.2.1"
    )
    assert response.status_code == 429


@pytest.fixture
def live(account, owner):
    granted_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=granted_at,
        expires_at=granted_at + dt.timedelta(days=7),
    )


@pytest.mark.parametrize(
    ("proxies", "expected"), [(1, "203.0.113.5"), (0, PROXY)], ids=["behind-proxy", "no-proxy"]
)
def test_visit_records_the_client_ip(
    settings, proxies, expected, support_staff, client_for, account, live
):
    settings.TRUSTED_PROXY_COUNT = proxies
    response = client_for(support_staff).post(
        reverse("admin:accounts_account_enter", args=[account.pk]),
        {"ticket_reference": "4411"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.5",
    )
    assert response.status_code == 302
    assert RepresentativeSession.objects.get().source_ip == expected
