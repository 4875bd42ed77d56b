"""Personas, clients and the switches that decide what runs where.

Tests marked `services` need PostgreSQL and Redis; `browser` tests need Debian's chromium.
Without them those tests are skipped with the reason — or fail, under REQUIRE_SERVICES=1 /
REQUIRE_BROWSER=1, which is how CI proves that nothing was skipped.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from remote_access.services.staff import staff_member_set_team
from tests.accounts.factories import AccountFactory, MembershipFactory, StaffUserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def _database_label() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        return f"PostgreSQL {db.get('HOST') or 'socket'}:{db.get('PORT') or 5432}/{db['NAME']}"
    return "SQLite (in memory)"


def _missing_services() -> str | None:
    missing = []
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        missing.append("PostgreSQL (set DATABASE_URL or start it on 127.0.0.1:5432)")
    if not settings.REDIS_URL:
        missing.append("Redis (set REDIS_URL or start it on 127.0.0.1:6379)")
    return "needs " + " and ".join(missing) if missing else None


def _missing_browser() -> str | None:
    if not shutil.which(CHROMIUM):
        return f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_report_header(config) -> list[str]:
    return [
        f"latchkey database: {_database_label()}",
        f"latchkey redis: {settings.REDIS_URL or 'none (services tests skipped)'}",
        f"latchkey browser: {_missing_browser() or 'chromium'}",
    ]


def pytest_runtest_setup(item) -> None:
    for marker, missing, switch in (
        ("services", _missing_services, "REQUIRE_SERVICES"),
        ("browser", _missing_browser, "REQUIRE_BROWSER"),
    ):
        if item.get_closest_marker(marker) is None:
            continue
        reason = missing()
        if reason is None:
            continue
        if os.environ.get(switch) == "1":
            pytest.fail(f"{switch}=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in the cache, rendered fragments in the process: every test
    starts with none."""
    from django.core.cache import cache, caches

    from accounts.ratelimit import in_process_counts_reset

    cache.clear()
    caches["fragments"].clear()
    in_process_counts_reset()


@pytest.fixture(autouse=True)
def _audit_trail_flushable(request):
    """Let transactional tests empty the append-only access-event table afterwards.

    The PostgreSQL trigger refuses TRUNCATE, which is how Django empties the database after a
    transactional test. Replica mode (superuser only) skips ordinary triggers; it is switched
    on just before that flush and back off at the start of every database test.
    """
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    transactional = bool({"transactional_db", "live_server"} & names) or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not (transactional or marker or "db" in names) or connection.vendor != "postgresql":
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = DEFAULT")
    yield
    if transactional:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")


@pytest.fixture
def round_trips_counted():
    """For tests that count round trips to the database: on PostgreSQL a batch of statements
    is one (accounts.compiled.run_together); SQLite runs each statement in-process, with no
    round trip to count."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL's round trips (SQLite runs each statement in-process)")


@pytest.fixture
def account(db):
    return AccountFactory(name="Acme Store", timezone="America/New_York")


@pytest.fixture
def other_account(db):
    return AccountFactory(name="Globex", timezone="Europe/Berlin")


def _member(account, role, email, name):
    return MembershipFactory(
        account=account, role=role, user__email=email, user__full_name=name
    ).user


@pytest.fixture
def owner(account):
    return _member(account, Role.OWNER, "owner@acme.test", "Olivia Owner")


@pytest.fixture
def admin(account):
    return _member(account, Role.ADMIN, "admin@acme.test", "Adam Admin")


@pytest.fixture
def manager(account):
    return _member(account, Role.MANAGER, "manager@acme.test", "Maya Manager")


@pytest.fixture
def analyst(account):
    return _member(account, Role.ANALYST, "analyst@acme.test", "Andy Analyst")


@pytest.fixture
def other_owner(other_account):
    return _member(other_account, Role.OWNER, "owner@globex.test", "Greta Globex")


STAFF_TOTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key


def with_authenticator(user):
    """Give a user a confirmed authenticator app with a known key (see STAFF_TOTP_KEY)."""
    TOTPDevice.objects.create(
        user=user, name="Authenticator app", key=STAFF_TOTP_KEY, confirmed=True
    )
    return user


@pytest.fixture
def support_staff(db):
    """Support team staff who may enter accounts, with two-factor sign-in."""
    user = StaffUserFactory(email="support@latchkey.test", full_name="Sam Support")
    staff_member_set_team(user=user, team="Support")
    return with_authenticator(user)


@pytest.fixture
def csm(db):
    """A customer success manager: may enter accounts and turn remote access off and on."""
    user = StaffUserFactory(email="csm@latchkey.test", full_name="Casey Success")
    staff_member_set_team(user=user, team="Success", may_disable=True)
    return with_authenticator(user)


def verify_two_factor(client, user) -> None:
    """Mark the session as signed in with the user's authenticator, as the code page does."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


@pytest.fixture
def client_for(client):
    """Log the test client in as someone: `client_for(owner).get(...)`."""

    def login(user):
        client.force_login(user)
        verify_two_factor(client, user)
        return client

    return login


@pytest.fixture
def owner_client(owner, client_for):
    return client_for(owner)


# --- Browser harness -------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def browser_login(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def current_totp_code(user) -> str:
    """What the user's authenticator app shows right now."""
    from django_otp.oath import TOTP

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{TOTP(device.bin_key).token():06d}"


def browser_login_staff(page, user, password: str) -> None:
    """Staff sign in from /admin/: the site's sign-in, password then two-factor code."""
    page.goto("/admin/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code", exact=True).fill(current_totp_code(user))
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on: connecting to it is refused at once."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
