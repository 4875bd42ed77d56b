"""The check every request of a visit makes (remote_access.selectors.visit_state and the
visit middleware): each rule it reads still ends the visit on the very next request, and the
two-factor device is read only where a page asks for it."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from remote_access.middleware import VISIT_DEVICE_KEY, VISIT_SESSION_KEY
from remote_access.models import AccessEvent, RemoteAccessGrant, RepresentativeSession
from remote_access.rules import ENTER_PERMISSION
from remote_access.selectors import enter_permission_id, live_condition, visit_state
from tests.accounts.factories import StaffUserFactory
from tests.conftest import with_authenticator
from tests.remote_access.factories import GrantFactory, RepresentativeSessionFactory
from tests.remote_access.test_support_sessions import account_admin_url, enter_url

Status = RemoteAccessGrant.Status
EndReason = RepresentativeSession.EndReason


def enter_permission() -> Permission:
    app_label, codename = ENTER_PERMISSION
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def rep_client(support_staff, client_for, account, owner):
    """Support staff inside Acme Store, on their first merchant page."""
    GrantFactory(account=account, granted_by=owner)
    client = client_for(support_staff)
    assert client.post(enter_url(account), {"ticket_reference": "4411"}).status_code == 302
    assert client.get("/").status_code == 200
    return client


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("expires_in", [dt.timedelta(hours=1), dt.timedelta(0), -dt.timedelta(1)])
def test_visit_state__grant_is_live__as_live_condition_says(status, expires_in, owner):
    now = timezone.now()
    grant = GrantFactory(
        granted_by=owner,
        status=status,
        granted_at=now - dt.timedelta(days=2),
        expires_at=now + expires_in,
    )
    visit = RepresentativeSessionFactory(grant=grant)
    in_database = RemoteAccessGrant.objects.filter(live_condition(now=now), pk=grant.pk).exists()
    state = visit_state(session_id=visit.pk, user=visit.staff_user, now=now)
    assert state.grant_is_live is in_database


@pytest.mark.parametrize(
    ("directly", "through_group", "may_enter"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
def test_visit_state__staff_may_enter__directly_or_through_a_group(
    directly, through_group, may_enter, db
):
    staff = StaffUserFactory()
    visit = RepresentativeSessionFactory(staff_user=staff)
    if directly:
        staff.user_permissions.add(enter_permission())
    if through_group:
        group = staff.groups.create(name="Support")
        group.permissions.add(enter_permission())
    state = visit_state(session_id=visit.pk, user=staff)
    assert state.staff_may_enter is may_enter
    assert staff.has_perm("remote_access.enter_account") is may_enter
    assert (state.account, state.grant, state.grant.granted_by) == (
        visit.account,
        visit.grant,
        visit.grant.granted_by,
    )


def test_visit_state__another_staff_users_visit__none(db):
    visit = RepresentativeSessionFactory()
    assert visit_state(session_id=visit.pk, user=StaffUserFactory()) is None


def test_enter_permission_id__forgotten_after_a_migrate(db):
    """A migrate (or a test database's flush) may recreate the permission under a new id."""
    assert enter_permission_id() == enter_permission().pk
    assert enter_permission_id.cache_info().currsize == 1
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert enter_permission_id.cache_info().currsize == 0


def test_mid_visit__permission_held_directly_and_removed__next_request_ends_it(
    client_for, account, owner
):
    staff = with_authenticator(StaffUserFactory())
    staff.user_permissions.add(enter_permission())
    GrantFactory(account=account, granted_by=owner)
    client = client_for(staff)
    assert client.post(enter_url(account), {"ticket_reference": "4411"}).status_code == 302
    assert client.get("/settings/").status_code == 200

    staff.user_permissions.clear()
    response = client.get("/settings/")

    assert response.url == account_admin_url(account)
    assert RepresentativeSession.objects.get().end_reason == EndReason.PERMISSION_LOST


def test_mid_visit__password_changed__next_request_is_signed_out(rep_client, support_staff):
    support_staff.set_password("a new password of theirs")
    support_staff.save()
    pages_seen = AccessEvent.objects.filter(kind=AccessEvent.Kind.PAGE_VIEWED).count()

    response = rep_client.get("/settings/")

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert VISIT_SESSION_KEY not in rep_client.session
    assert AccessEvent.objects.filter(kind=AccessEvent.Kind.PAGE_VIEWED).count() == pages_seen


def test_visit_pages__read_no_two_factor_device(rep_client):
    with CaptureQueriesContext(connection) as captured:
        assert rep_client.get("/settings/").status_code == 200
    assert not [query for query in captured if "otp_" in query["sql"]]
    assert rep_client.session[VISIT_DEVICE_KEY]


def test_visit__staff_admin_pages_still_pass_two_factor(rep_client, account):
    assert rep_client.get(account_admin_url(account)).status_code == 200
    assert rep_client.get("/settings/").status_code == 200  # the visit goes on
    assert rep_client.get(account_admin_url(account)).status_code == 200
    assert RepresentativeSession.objects.get().ended_at is None


def test_visit__authenticator_removed__admin_asks_for_it_again(rep_client, support_staff):
    """As django-otp would have it: the session no longer counts as two-factor."""
    TOTPDevice.objects.filter(user=support_staff).delete()
    response = rep_client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:mfa_setup"))
    assert DEVICE_ID_SESSION_KEY not in rep_client.session


def test_visit__another_users_device__does_not_count(rep_client, owner):
    with_authenticator(owner)
    session = rep_client.session
    session[VISIT_DEVICE_KEY] = TOTPDevice.objects.get(user=owner).persistent_id
    session.save()
    response = rep_client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("how", ["exit", "end_own_visit", "grant_removed"])
def test_after_the_visit__admin_without_signing_in_again(how, rep_client, account, owner):
    if how == "exit":
        rep_client.post(reverse("remote_access:representative_exit"))
    elif how == "end_own_visit":
        rep_client.post(reverse("admin:accounts_account_end_own_visit"))
    else:
        RemoteAccessGrant.objects.update(status=Status.REVOKED)
        rep_client.get("/settings/")
    assert RepresentativeSession.objects.get().ended_at is not None
    assert rep_client.get(account_admin_url(account)).status_code == 200
    assert VISIT_DEVICE_KEY not in rep_client.session
    assert rep_client.session[DEVICE_ID_SESSION_KEY]


def test_sign_in_with_a_code_during_a_visit__the_newer_device_entry_wins(
    rep_client, support_staff, account
):
    newer = TOTPDevice.objects.create(user=support_staff, name="Second phone", confirmed=True)
    session = rep_client.session
    session[DEVICE_ID_SESSION_KEY] = newer.persistent_id  # as the code page writes it
    session.save()
    assert rep_client.get(account_admin_url(account)).status_code == 200
    assert rep_client.session[DEVICE_ID_SESSION_KEY] == newer.persistent_id
