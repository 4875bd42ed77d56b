"""A sweep over every view, so a view added later is covered without touching this file."""

import datetime as dt
import logging

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation
from accounts.services.integrations import integration_create
from audience.models import ImportJob
from tests.accounts.factories import owner_actor
from tests.audience.factories import SegmentFactory
from tests.remote_access.factories import (
    AccessRequestFactory,
    GrantFactory,
    RepresentativeSessionFactory,
    SupportRequestFactory,
)
from tests.urlconf import PUBLIC, merchant_views, url_kwargs

OUR_APPS = ("accounts", "remote_access", "audience", "otp_totp", "otp_static")


@pytest.fixture
def samples(account, owner, admin):
    """One object of each kind a URL can name, all in Acme Store."""
    grant = GrantFactory(account=account, granted_by=owner)
    invitation = Invitation.objects.create(
        account=account,
        email="new@acme.test",
        role="analyst",
        invited_by=owner,
        token_hash="0" * 64,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    integration = integration_create(
        account=account,
        actor=owner_actor(account),
        name="Shop",
        store_url="https://s.example",
        api_key="k",
        webhook_secret="w",
    )
    job = ImportJob.objects.create(
        account=account,
        created_by=owner,
        file_name="a.csv",
        content=b"email\na@b.co\n",
        mapping={"email": "email"},
        total_rows=1,
    )
    return {
        "grant_id": grant.pk,
        "visit_id": RepresentativeSessionFactory(grant=grant).pk,
        "request_id": SupportRequestFactory(account=account, requested_by=owner).pk,
        "account_id": account.pk,
        "member_id": admin.memberships.get().pk,
        "invitation_id": invitation.pk,
        "integration_id": integration.pk,
        "api_key_id": 999_999,
        "job_id": job.pk,
        "segment_id": SegmentFactory(account=account).pk,
        "access_request_id": AccessRequestFactory(account=account).pk,
        "plan": "pro",
        "token": "not-a-real-token",
        "uidb64": "MQ",
        "url_token": "x",
    }


def snapshot() -> dict:
    """Every row of every model of ours, to compare before and after."""
    state = {}
    for app_label in OUR_APPS:
        for model in apps.get_app_config(app_label).get_models():
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    return state


def urls(samples):
    for name, pattern in merchant_views():
        kwargs = dict(url_kwargs(pattern, {**samples, "token": samples["token"]}))
        yield name, reverse(name, kwargs=kwargs)


def test_every_merchant_url_requires_sign_in(samples, client):
    for name, url in urls(samples):
        if name in PUBLIC:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            redirected_to_login = response.status_code == 302 and response.url.startswith(
                "/accounts/login/"
            )
            assert redirected_to_login or response.status_code == 405, (name, method, response)


def test_no_get_changes_state(samples, owner, client):
    client.force_login(owner)
    before = snapshot()
    for name, url in urls(samples):
        response = client.get(url)
        # /readyz answers 503 by design here: no beat has ever run in the test database.
        assert response.status_code < 500 or name == "readyz", (name, response.status_code)
        assert snapshot() == before, f"GET {name} changed the database"


def test_every_post_without_csrf_token_is_refused(samples, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    before = snapshot()
    for name, url in urls(samples):
        response = client.post(url, {"duration": "7d", "name": "x", "email": "a@b.co"})
        assert response.status_code == 403, (name, response.status_code)
    assert snapshot() == before


ADMIN_VIEWS = [
    ("admin:accounts_account_enter", "post"),
    ("admin:accounts_account_disable_remote_access", "post"),
    ("admin:accounts_account_enable_remote_access", "post"),
    ("admin:remote_access_remoteaccessgrant_changelist", "get"),
    ("admin:remote_access_representativesession_changelist", "get"),
    ("admin:remote_access_accessevent_changelist", "get"),
    ("admin:remote_access_supportrequest_changelist", "get"),
]


@pytest.mark.parametrize(("name", "method"), ADMIN_VIEWS)
def test_admin_remote_access_views_refused_to_staff_without_permission(
    name, method, samples, client_for, account
):
    from tests.accounts.factories import StaffUserFactory
    from tests.conftest import with_authenticator

    client = client_for(with_authenticator(StaffUserFactory()))
    args = [account.pk] if "account_" in name else []
    before = snapshot()
    response = getattr(client, method)(
        reverse(name, args=args), {"ticket_reference": "1", "reason": "x"}
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_response_headers__csp_frame_and_referrer(owner_client):
    response = owner_client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_hsts__sent_under_production_settings(owner_client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = owner_client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_failed_audit_write__rolls_back_the_change(owner_client, account):
    """The grant and its AccessEvent commit together or not at all."""
    from django.db import connection

    from remote_access.models import AccessEvent, RemoteAccessGrant

    events = f'INSERT INTO "{AccessEvent._meta.db_table}"'

    def broken(execute, sql, params, many, context):
        if sql.startswith(events):
            raise RuntimeError("audit storage unavailable")
        return execute(sql, params, many, context)

    client = owner_client
    client.raise_request_exception = False
    with connection.execute_wrapper(broken):
        response = client.post(reverse("remote_access:security"), {"duration": "7d"})
    assert response.status_code == 500
    assert not RemoteAccessGrant.objects.filter(account=account).exists()


def test_no_secret_reaches_logs_or_history(
    owner, support_staff, client_for, account, caplog, django_capture_on_commit_callbacks
):
    """Passwords, session ids, CSRF tokens, TOTP secrets, API keys and integration secrets
    stay out of the logs and the access history, through a whole working session."""
    from accounts.models import ApiKey
    from remote_access.events import EVENT_RELATED, describe
    from remote_access.models import AccessEvent
    from tests.accounts.factories import PASSWORD

    caplog.set_level(logging.DEBUG)
    integration = integration_create(
        account=account,
        actor=owner_actor(account),
        name="Shop",
        store_url="https://s.example",
        api_key="shpat_LEAKCHECK_0001",
        webhook_secret="whsec_LEAKCHECK_0002",
    )
    client = Client()
    client.post(reverse("accounts:login"), {"username": owner.email, "password": PASSWORD})
    client.post(reverse("accounts:mfa_setup"), {"current-password": PASSWORD})
    secret = client.get(reverse("accounts:mfa_setup")).context["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("remote_access:security"), {"duration": "7d"})
    new_key = client.post(reverse("accounts:api_key_create"), {"label": "x"}).context["new_key"]
    client.post(reverse("accounts:integration_reveal", args=[integration.pk]))
    staff = client_for(support_staff)
    staff.post(
        reverse("admin:accounts_account_enter", args=[account.pk]), {"ticket_reference": "9"}
    )
    staff.post("/settings/", {"name": "Acme", "timezone": "UTC"})

    secrets = [
        PASSWORD,
        secret,
        new_key,
        ApiKey.objects.get().key_hash,
        "shpat_LEAKCHECK_0001",
        "whsec_LEAKCHECK_0002",
        client.cookies["sessionid"].value,
        staff.cookies["sessionid"].value,
        client.cookies["csrftoken"].value if "csrftoken" in client.cookies else "no-csrf-cookie",
    ]
    history = " ".join(
        f"{describe(event)} {event.path} {event.payload}"
        for event in AccessEvent.objects.select_related(*EVENT_RELATED)
    )
    assert AccessEvent.objects.count() >= 3
    for value in secrets:
        assert value not in caplog.text
        assert value not in history
