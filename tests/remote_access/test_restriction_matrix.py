"""Walks the URL conf, so a view added later is covered without touching this file."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Account, ApiKey, Integration, Invitation, Membership
from accounts.roles import Role
from accounts.services.integrations import integration_create
from audience.models import ImportJob, Profile, Segment
from remote_access.actors import REPRESENTATIVE_RESTRICTED
from remote_access.models import (
    AccessEvent,
    AccessRequest,
    RemoteAccessGrant,
    RepresentativeSession,
    Scope,
    SupportRequest,
)
from tests.accounts.factories import MembershipFactory, StaffUserFactory, owner_actor
from tests.audience.factories import SegmentFactory
from tests.remote_access.factories import SupportRequestFactory
from tests.remote_access.test_support_sessions import enter_url
from tests.urlconf import PUBLIC, merchant_views


def test_every_merchant_view_declares_a_capability():
    views = merchant_views()
    assert len(views) > 10
    undeclared = [
        name
        for name, pattern in views
        if name not in PUBLIC and not hasattr(pattern.callback, "access")
    ]
    assert undeclared == []


def restricted_views():
    for name, pattern in merchant_views():
        if name in PUBLIC:
            continue
        access = getattr(pattern.callback, "access", None)
        capability = access.capability if access else None
        unsafe = access.unsafe if access else None
        if capability in REPRESENTATIVE_RESTRICTED or unsafe in REPRESENTATIVE_RESTRICTED:
            yield pytest.param(name, capability in REPRESENTATIVE_RESTRICTED, id=name)


RESTRICTED = list(restricted_views())


def test_the_matrix_covers_the_remote_access_views():
    names = {param.values[0] for param in RESTRICTED}
    assert {
        "remote_access:security",
        "remote_access:grant_remove",
        "accounts:member_invite",
        "accounts:member_role",
        "accounts:member_remove",
        "accounts:member_reset_mfa",
        "accounts:invitation_revoke",
        "accounts:mfa_policy",
        "accounts:billing_change",
        "accounts:settings_integrations",
        "accounts:integration_reveal",
        "accounts:integration_rotate",
        "accounts:api_key_create",
        "accounts:api_key_revoke",
        "audience:import_upload",
        "audience:import_detail",
        "audience:import_start",
        "audience:import_progress",
        "audience:import_rejections",
    } <= names


def url_for(name, pattern, **objects):
    args = {f"{key}_id": obj.pk for key, obj in objects.items()}
    args["plan"] = "pro"
    args["token"] = "not-a-real-token"
    return reverse(name, kwargs={key: args[key] for key in pattern.pattern.converters})


def _world(account, owner, support_staff):
    """Something of every kind a merchant URL can name, and a snapshot of what a refused
    request must leave untouched."""
    from tests.remote_access.factories import AccessRequestFactory, GrantFactory

    grant = GrantFactory(account=account, granted_by=owner)
    support_request = SupportRequestFactory(account=account, requested_by=owner)
    analyst = MembershipFactory(account=account, role=Role.ANALYST)
    invitation = Invitation.objects.create(
        account=account,
        email="new@acme.test",
        role=Role.ANALYST,
        invited_by=owner,
        token_hash="0" * 64,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    TOTPDevice.objects.create(user=analyst.user, name="app", confirmed=True)
    integration = integration_create(
        account=account,
        actor=owner_actor(account),
        name="Shop",
        store_url="https://acme.example",
        api_key="shpat_SECRET_KEY_1234",
        webhook_secret="whsec_SECRET_5678",
    )
    job = ImportJob.objects.create(
        account=account,
        created_by=owner,
        file_name="p.csv",
        content=b"email\na@b.co\n",
        mapping={"email": "email"},
        total_rows=1,
    )
    api_key = ApiKey.objects.create(
        account=account, label="Sync", prefix="lk_abc", key_hash="1" * 64, created_by=owner
    )
    segment = SegmentFactory(account=account, name="VIP customers")
    access_request = AccessRequestFactory(account=account, staff_user=StaffUserFactory())
    return {
        "grant": grant,
        "request": support_request,
        "account": account,
        "member": analyst,
        "invitation": invitation,
        "integration": integration,
        "api_key": api_key,
        "job": job,
        "segment": segment,
        "access_request": access_request,
    }


def _state(account):
    return (
        list(RemoteAccessGrant.objects.values_list("pk", "status", "expires_at", "scope")),
        list(Membership.objects.order_by("pk").values_list("pk", "role")),
        list(Invitation.objects.values_list("pk", "revoked_at")),
        TOTPDevice.objects.count(),
        Account.objects.values_list("name", "timezone", "require_mfa", "plan").get(pk=account.pk),
        list(Integration.objects.values_list("pk", "webhook_secret_encrypted")),
        list(ApiKey.objects.values_list("pk", "revoked_at")),
        list(ImportJob.objects.values_list("pk", "status")),
        Profile.objects.count(),
        list(Segment.objects.order_by("pk").values_list("pk", "name", "match", "conditions")),
        list(AccessRequest.objects.values_list("pk", "status")),
        SupportRequest.objects.count(),
    )


# What a form might send: enough to change something, were the request let through.
HOSTILE_DATA = {
    "duration": "90d",
    "current_grant": "",
    "email": "mallory@evil.test",
    "role": "owner",
    "require_mfa": "on",
    "name": "Changed by support",
    "timezone": "UTC",
    "team": "support",
    "subject": "s",
    "message": "m",
    "match": "all",
}


@pytest.mark.parametrize(("name", "get_restricted"), RESTRICTED)
def test_representative_refused_restricted_view(
    name, get_restricted, account, owner, support_staff, client_for
):
    """GET (where the view itself is restricted) and POST are 403, change nothing, and are
    written to the history as blocked."""
    world = _world(account, owner, support_staff)
    client = client_for(support_staff)
    assert client.post(enter_url(account), {"ticket_reference": "4411"}).status_code == 302
    pattern = dict(merchant_views())[name]
    url = url_for(name, pattern, **world, visit=RepresentativeSession.objects.get())
    before = _state(account)

    methods = ["get", "post"] if get_restricted else ["post"]
    for method in methods:
        blocked_before = AccessEvent.objects.filter(kind="action_blocked").count()
        data = {**HOSTILE_DATA, "current_grant": world["grant"].pk}
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
        assert "Support representatives can't" in response.content.decode().replace("&#x27;", "'")
        assert AccessEvent.objects.filter(kind="action_blocked").count() == blocked_before + 1
        assert b"SECRET" not in response.content
    assert _state(account) == before
    assert not AccessEvent.objects.filter(kind="action_performed").exists()


# Views that belong to the signed-in person, not to the account (their own profile and
# two-factor, switching, leaving the visit): no account capability guards them, and the
# banner's Exit must work on every grant.
PERSONAL_VIEWS = {
    "remote_access:representative_exit",
    "accounts:switch",
    "accounts:profile",
    "accounts:mfa_setup",
    "accounts:mfa_turn_off",
}


def account_views():
    for name, pattern in merchant_views():
        access = getattr(pattern.callback, "access", None)
        if name in PUBLIC or name in PERSONAL_VIEWS or access is None:
            continue
        get_restricted = access.capability in REPRESENTATIVE_RESTRICTED
        change_restricted = get_restricted or access.unsafe in REPRESENTATIVE_RESTRICTED
        yield pytest.param(name, get_restricted, change_restricted, id=name)


ACCOUNT_VIEWS = list(account_views())


def test_every_view_is_in_the_view_only_matrix_or_personal():
    """A view without an account capability must be one of the person's own, listed above."""
    undeclared = {
        name
        for name, pattern in merchant_views()
        if name not in PUBLIC and getattr(pattern.callback, "access", None) is not None
    } - {param.values[0] for param in ACCOUNT_VIEWS}
    assert undeclared == PERSONAL_VIEWS


@pytest.mark.parametrize(("name", "get_restricted", "change_restricted"), ACCOUNT_VIEWS)
def test_view_only_representative__reads_as_full_and_changes_nothing(
    name, get_restricted, change_restricted, account, owner, support_staff, client_for
):
    """On a view-only grant every page answers a GET as it does on a full grant; POST, PUT,
    PATCH and DELETE are 403, change nothing and are written to the history as blocked."""
    world = _world(account, owner, support_staff)
    client = client_for(support_staff)
    assert client.post(enter_url(account), {"ticket_reference": "4411"}).status_code == 302
    url = url_for(
        name, dict(merchant_views())[name], **world, visit=RepresentativeSession.objects.get()
    )
    on_full = client.get(url).status_code
    RemoteAccessGrant.objects.filter(pk=world["grant"].pk).update(scope=Scope.VIEW_ONLY)

    on_view_only = client.get(url).status_code
    assert on_view_only == on_full
    if not get_restricted:
        assert on_view_only != 403
    before = _state(account)
    for method in ("post", "put", "patch", "delete"):
        blocked_before = AccessEvent.objects.filter(kind="action_blocked").count()
        data = {**HOSTILE_DATA, "current_grant": world["grant"].pk}
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
        text = response.content.decode().replace("&#x27;", "'")
        # A restricted action keeps its own reason; anything else is refused as view-only.
        expected = (
            "Support representatives can't" if change_restricted else "granted view-only access"
        )
        assert expected in text
        assert AccessEvent.objects.filter(kind="action_blocked").count() == blocked_before + 1
    assert _state(account) == before
    assert not AccessEvent.objects.filter(kind="action_performed").exists()
    # Leaving still works on a view-only grant.
    assert client.post(reverse("remote_access:representative_exit")).status_code == 302
    assert not RepresentativeSession.objects.filter(ended_at__isnull=True).exists()
