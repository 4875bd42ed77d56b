import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from outbox.services import outbox_drain
from remote_access.events import describe
from remote_access.middleware import VISIT_SESSION_KEY
from remote_access.models import AccessEvent, RemoteAccessGrant, RepresentativeSession
from remote_access.services import access_grant
from tests.accounts.factories import StaffUserFactory
from tests.conftest import verify_two_factor, with_authenticator
from tests.remote_access.factories import GrantFactory, csm_user

EndReason = RepresentativeSession.EndReason


def enter_url(account):
    return reverse("admin:accounts_account_enter", args=[account.pk])


def account_admin_url(account):
    return reverse("admin:accounts_account_change", args=[account.pk])


@pytest.fixture
def live(account, owner):
    """Acme Store has granted 7 days of access, a day ago."""
    granted_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    return GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=granted_at,
        expires_at=granted_at + dt.timedelta(days=7),
    )


@pytest.fixture
def staff_client(support_staff, client_for):
    return client_for(support_staff)


@pytest.fixture
def rep_client(staff_client, account, live):
    """Support staff inside Acme Store, entered through the admin with ticket 4411."""
    response = staff_client.post(enter_url(account), {"ticket_reference": "4411"})
    assert response.status_code == 302, response.content
    return staff_client


def sessions():
    return RepresentativeSession.objects.all()


# --- entering --------------------------------------------------------------------------


def test_enter__form_then_post_starts_a_session(staff_client, account, live, support_staff):
    form = staff_client.get(enter_url(account))
    assert form.status_code == 200
    assert "Ticket reference" in form.content.decode()
    assert not sessions().exists()

    key_before = staff_client.session.session_key
    response = staff_client.post(
        enter_url(account),
        {"ticket_reference": " 4411 ", "note": "VIP segment count"},
        HTTP_USER_AGENT="Firefox/140",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302
    assert response.url == "/"
    assert staff_client.session.session_key != key_before
    session = sessions().get()
    assert (session.staff_user, session.account, session.grant) == (support_staff, account, live)
    assert (session.ticket_reference, session.team) == ("4411", "support")
    assert (session.source_ip, session.user_agent) == ("203.0.113.9", "Firefox/140")
    event = account.access_events.get()
    assert event.kind == AccessEvent.Kind.SESSION_STARTED
    assert describe(event) == "Sam from Support entered the account — ticket #4411"


def test_enter__lands_on_merchant_site_with_banner(rep_client, account):
    body = rep_client.get("/").content.decode()
    assert 'aria-label="Support session"' in body
    assert "You are in <strong>Acme Store</strong> as Latchkey Support (Sam Support)" in body
    assert "access granted by Olivia Owner" in body
    assert ">Exit</button>" in body
    # The staff user stays themselves: not logged in as any merchant user.
    assert rep_client.get("/").wsgi_request.user.email == "support@latchkey.test"


def test_enter__unsafe_next_is_ignored(staff_client, account, live):
    response = staff_client.post(
        enter_url(account), {"ticket_reference": "1", "next": "https://evil.test/"}
    )
    assert response.url == "/"


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("not_staff", 403, None),
        ("no_permission", 403, "permission to enter merchant accounts"),
        ("no_grant", 403, "has not granted access"),
        ("grant_past_expiry", 403, "has not granted access"),
        ("turned_off", 403, "Remote access is turned off"),
        ("no_ticket", 400, "Give the ticket this visit is for."),
        ("blank_ticket", 400, "Give the ticket this visit is for."),
        ("get", 200, None),
        ("no_csrf", 403, None),
    ],
)
def test_enter__refused_with_reason_and_nothing_written(
    case, status, message, account, owner, other_account, other_owner, support_staff, client_for
):
    grant = GrantFactory(account=account, granted_by=owner)
    data = {"ticket_reference": "4411"}
    client = client_for(support_staff)
    if case == "not_staff":
        client = client_for(owner)
    elif case == "no_permission":
        client = client_for(with_authenticator(StaffUserFactory()))
    elif case == "no_grant":
        grant.status = RemoteAccessGrant.Status.REVOKED
        grant.save()
    elif case == "grant_past_expiry":
        grant.granted_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
        grant.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        grant.save()  # still "active": beat has not run, and it must not matter
    elif case == "turned_off":
        account.remote_access_disabled = True
        account.save()
    elif case == "no_ticket":
        data = {}
    elif case == "blank_ticket":
        data = {"ticket_reference": "   "}
    elif case == "no_csrf":
        client = Client(enforce_csrf_checks=True)
        client.force_login(support_staff)
    existing = set(sessions().values_list("pk", flat=True))
    events = AccessEvent.objects.count()

    response = (
        client.get(enter_url(account), data)
        if case == "get"
        else client.post(enter_url(account), data)
    )

    assert response.status_code == status
    if message:
        assert message in response.content.decode().replace("&#x27;", "'")
    assert set(sessions().values_list("pk", flat=True)) == existing
    assert AccessEvent.objects.count() == events
    assert VISIT_SESSION_KEY not in client.session


# --- every request checks the session ----------------------------------------------------


def _merchant_removes(account, owner, grant):
    from accounts.actors import MemberActor
    from remote_access.services import access_remove

    actor = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    access_remove(account=account, actor=actor, grant_id=grant.pk)


def _merchant_replaces(account, owner, grant):
    from accounts.actors import MemberActor

    actor = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    access_grant(account=account, actor=actor, duration="30d", expected_current_grant_id=grant.pk)


def _clock_passes_expiry(account, owner, grant, time_machine=None):
    # A grant ending in five minutes; the clock moves six (inside the staff idle limit).
    grant.expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    grant.save()
    time_machine.move_to(grant.expires_at + dt.timedelta(seconds=1), tick=False)


def _support_turns_off(account, owner, grant):
    from remote_access.services import remote_access_disable

    remote_access_disable(account=account, staff_user=csm_user(), reason="Merchant asked")


def _staff_loses_permission(account, owner, grant):
    staff = RepresentativeSession.objects.get().staff_user
    staff.groups.clear()


def _staff_no_longer_staff(account, owner, grant):
    staff = RepresentativeSession.objects.get().staff_user
    staff.is_staff = False
    staff.save()


def _session_too_old(account, owner, grant, time_machine=None, settings=None):
    settings.REPRESENTATIVE_SESSION_MAX_AGE = dt.timedelta(minutes=10)
    session = RepresentativeSession.objects.get()
    time_machine.move_to(session.started_at + dt.timedelta(minutes=10), tick=False)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_merchant_removes, EndReason.REVOKED),
        (_merchant_replaces, EndReason.REPLACED),
        (_clock_passes_expiry, EndReason.EXPIRED),
        (_support_turns_off, EndReason.DISABLED),
        (_staff_loses_permission, EndReason.PERMISSION_LOST),
        (_staff_no_longer_staff, EndReason.PERMISSION_LOST),
        (_session_too_old, EndReason.TIMED_OUT),
    ],
)
def test_mid_session__very_next_request_ends_it_with_the_reason(
    change, reason, rep_client, account, owner, live, time_machine, settings
):
    assert rep_client.get("/settings/").status_code == 200
    key_before = rep_client.session.session_key
    extra = {"time_machine": time_machine, "settings": settings}
    wanted = change.__code__.co_varnames[: change.__code__.co_argcount]
    change(account, owner, live, **{name: extra[name] for name in wanted if name in extra})

    response = rep_client.get("/settings/")

    assert response.status_code == 302
    assert response.url == account_admin_url(account)
    session = RepresentativeSession.objects.get()
    assert session.ended_at is not None
    assert session.end_reason == reason
    assert VISIT_SESSION_KEY not in rep_client.session
    assert rep_client.session.session_key != key_before
    ended = AccessEvent.objects.filter(kind=AccessEvent.Kind.SESSION_ENDED)
    assert ended.count() == 1
    if reason != EndReason.PERMISSION_LOST:
        follow = rep_client.get(response.url)
        assert f"has ended: {EndReason(reason).label}" in follow.content.decode()


def test_after_the_end__back_to_plain_staff_without_account(rep_client, account, owner, live):
    _merchant_removes(account, owner, live)
    rep_client.get("/")
    response = rep_client.get("/")
    assert response.status_code == 403  # a staff user is no member of any account
    assert "not in any account" in response.content.decode()


# --- exit --------------------------------------------------------------------------------


def test_exit__ends_session_rotates_key_back_to_admin(rep_client, account):
    key_before = rep_client.session.session_key
    response = rep_client.post(reverse("remote_access:representative_exit"))
    assert response.url == account_admin_url(account)
    assert rep_client.session.session_key != key_before
    session = RepresentativeSession.objects.get()
    assert session.end_reason == EndReason.EXIT
    kinds = [(event.kind, describe(event)) for event in account.access_events.order_by("pk")]
    assert kinds[-1] == ("session_ended", "Sam from Support left the account")
    assert not account.access_events.filter(kind="action_performed").exists()


def test_exit__get_is_refused(rep_client):
    assert rep_client.get(reverse("remote_access:representative_exit")).status_code == 405
    assert RepresentativeSession.objects.get().ended_at is None


# --- restricted actions and the audit of what support does --------------------------------


def test_representative_post__writes_action_performed(rep_client, account):
    response = rep_client.post("/settings/", {"name": "Acme Shop", "timezone": "UTC"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "Acme Shop"
    event = account.access_events.get(kind="action_performed")
    assert describe(event) == "Sam changed the account settings (name, time zone)"
    assert event.session == RepresentativeSession.objects.get()


def test_representative_post_form_error__changes_nothing_still_recorded(rep_client, account):
    """Every representative POST is written down, whatever it answered (DESIGN §5.7)."""
    response = rep_client.post("/settings/", {"name": "", "timezone": "UTC"})
    assert response.status_code == 400
    event = account.access_events.get(kind="action_performed")
    assert (event.method, event.path, event.result) == ("POST", "/settings/", 400)
    assert describe(event) == "Sam sent POST /settings/ — nothing was changed"


def test_representative_cannot_grant_or_remove_even_forged(rep_client, account, live):
    for url, data in (
        (reverse("remote_access:security"), {"duration": "90d", "current_grant": live.pk}),
        (reverse("remote_access:grant_remove", args=[live.pk]), {}),
        (
            reverse("remote_access:contact"),
            {"team": "support", "subject": "s", "message": "m", "duration": "90d"},
        ),
    ):
        response = rep_client.post(url, data)
        assert response.status_code == 403
        assert (
            "Support representatives can't grant or remove support access"
            in response.content.decode().replace("&#x27;", "'")
        )
    assert list(RemoteAccessGrant.objects.values_list("pk", "status")) == [(live.pk, "active")]
    blocked = account.access_events.filter(kind="action_blocked")
    assert blocked.count() == 3
    assert describe(blocked.first()) == "Sam tried to grant or remove support access — refused"


@pytest.mark.usefixtures("round_trips_counted")
def test_representative_request__costs_at_most_one_query_more_than_an_admin(
    rep_client, admin, account
):
    admin_client = Client()
    admin_client.force_login(admin)
    for client in (admin_client, rep_client):
        client.get("/settings/")  # warm caches (content types, sessions)

    def queries(client):
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/settings/").status_code == 200
        return len(captured)

    assert queries(rep_client) <= queries(admin_client) + 1


@pytest.mark.usefixtures("round_trips_counted")
def test_representative_request__visit_check_comes_with_the_user_in_one_round_trip(rep_client):
    """accounts.backends.read_with_request: the visit the session is in is checked in the
    same statement batch as the signed-in user (remote_access.middleware)."""
    rep_client.get("/settings/")
    with CaptureQueriesContext(connection) as captured:
        assert rep_client.get("/settings/").status_code == 200
    checks = [
        q["sql"] for q in captured if 'FROM "remote_access_representativesession"' in q["sql"]
    ]
    assert len(checks) == 1
    assert 'FROM "accounts_user"' in checks[0]


def test_session_reads__never_run_for_another_user_than_the_sessions(
    rep_client, support_staff, admin
):
    """A read bound from a session belongs to that session's user: loading anyone else (the
    backend is asked for another id) runs none of it."""
    from django.test import RequestFactory

    from accounts.backends import UserBackend, plan_reads, reset_planned_reads
    from accounts.sessions import SessionStore

    request = RequestFactory().get("/settings/")
    request.session = SessionStore(rep_client.session.session_key)
    token = plan_reads(request)
    try:
        someone_else = UserBackend().get_user(admin.pk)
        staff = UserBackend().get_user(support_staff.pk)
    finally:
        reset_planned_reads(token)
    assert "visit" not in someone_else.read_with_user
    assert len(staff.read_with_user["visit"]) == 1
    after = UserBackend().get_user(support_staff.pk)
    assert "visit" not in after.read_with_user, "reset after the request"


# --- the permanent turn-off ---------------------------------------------------------------


def test_disable__csm_turns_off_revoking_and_ending_sessions(
    rep_client, csm, account, live, owner, admin, django_capture_on_commit_callbacks
):
    csm_client = Client()
    csm_client.force_login(csm)
    verify_two_factor(csm_client, csm)
    url = reverse("admin:accounts_account_disable_remote_access", args=[account.pk])
    assert csm_client.post(url, {"reason": ""}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = csm_client.post(url, {"reason": "Merchant asked by phone, ticket 99"})
    assert response.status_code == 302
    account.refresh_from_db()
    live.refresh_from_db()
    assert account.remote_access_disabled
    assert account.remote_access_disabled_by == csm
    assert live.status == RemoteAccessGrant.Status.REVOKED
    assert RepresentativeSession.objects.get().end_reason == EndReason.DISABLED
    kinds = set(account.access_events.values_list("kind", flat=True))
    assert {"remote_access_disabled", "session_ended"} <= kinds
    outbox_drain()
    turned_off = [m for m in mail.outbox if "turned remote access off" in m.subject]
    assert len(turned_off) == 1
    # The representative is out on their next click.
    assert rep_client.get("/").status_code == 302

    on = reverse("admin:accounts_account_enable_remote_access", args=[account.pk])
    assert csm_client.get(on).status_code == 405
    assert csm_client.post(on).status_code == 302
    account.refresh_from_db()
    assert not account.remote_access_disabled
    assert account.access_events.filter(kind="remote_access_enabled").count() == 1


def test_disable__refused_to_support_without_the_permission(staff_client, account, live):
    url = reverse("admin:accounts_account_disable_remote_access", args=[account.pk])
    response = staff_client.post(url, {"reason": "please"})
    assert response.status_code == 403
    assert "Only customer success managers" in response.content.decode()
    account.refresh_from_db()
    assert not account.remote_access_disabled
    on = reverse("admin:accounts_account_enable_remote_access", args=[account.pk])
    assert staff_client.post(on).status_code == 403


def test_disabled_account__merchant_cannot_grant(account, owner, client_for):
    from remote_access.services import remote_access_disable

    remote_access_disable(account=account, staff_user=csm_user(), reason="asked")
    response = client_for(owner).post(reverse("remote_access:security"), {"duration": "7d"})
    assert response.status_code == 403
    assert not RemoteAccessGrant.objects.exists()


# --- the admin ---------------------------------------------------------------------------


def test_admin_account_list__shows_remote_access_with_filter(
    staff_client, account, live, other_account
):
    url = reverse("admin:accounts_account_changelist")
    body = staff_client.get(url).content.decode()
    assert "Live until" in body
    assert "granted by Olivia Owner" in body
    live_only = staff_client.get(url, {"remote_access": "live"}).content.decode()
    assert "Acme Store" in live_only
    assert "Globex" not in live_only
    none_only = staff_client.get(url, {"remote_access": "none"}).content.decode()
    assert "Globex" in none_only


def test_admin_account_page__enter_button_only_where_allowed(
    staff_client, account, live, other_account
):
    body = staff_client.get(account_admin_url(account)).content.decode()
    assert enter_url(account) in body
    other = staff_client.get(account_admin_url(other_account)).content.decode()
    assert enter_url(other_account) not in other
    assert "has not granted access" in other.replace("&#x27;", "'")


@pytest.mark.parametrize(
    "model", ["remoteaccessgrant", "representativesession", "accessevent", "supportrequest"]
)
def test_admin_history__read_only_even_for_superusers(model, rep_client, client, db):
    superuser = with_authenticator(StaffUserFactory(is_superuser=True))
    client.force_login(superuser)
    verify_two_factor(client, superuser)
    assert client.get(reverse(f"admin:remote_access_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:remote_access_{model}_add")).status_code == 403
    obj = {
        "remoteaccessgrant": RemoteAccessGrant,
        "representativesession": RepresentativeSession,
        "accessevent": AccessEvent,
    }.get(model)
    if obj is not None:
        pk = obj.objects.first().pk
        assert (
            client.post(reverse(f"admin:remote_access_{model}_delete", args=[pk])).status_code
            == 403
        )


def test_admin_history__hidden_from_staff_without_permissions(client_for, db):
    client = client_for(with_authenticator(StaffUserFactory()))
    for model in ("remoteaccessgrant", "representativesession", "accessevent", "supportrequest"):
        assert client.get(reverse(f"admin:remote_access_{model}_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_account_changelist")).status_code == 403


def test_admin_support_requests__show_live_access_and_enter_link(
    staff_client, account, owner, live
):
    from tests.remote_access.factories import SupportRequestFactory

    SupportRequestFactory(account=account, requested_by=owner)
    body = staff_client.get(
        reverse("admin:remote_access_supportrequest_changelist")
    ).content.decode()
    assert enter_url(account) in body


def test_seed_demo__staff_teams_and_permissions(db, settings):
    import io

    from django.core.management import call_command

    from accounts.models import User

    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    support = User.objects.get(email="support@latchkey.test")
    csm = User.objects.get(email="csm@latchkey.test")
    assert list(support.groups.values_list("name", flat=True)) == ["Support"]
    assert list(csm.groups.values_list("name", flat=True)) == ["Success"]
    assert support.has_perm("remote_access.enter_account")
    assert not support.has_perm("remote_access.disable_remote_access")
    assert csm.has_perm("remote_access.disable_remote_access")
    assert Permission.objects.filter(codename="enter_account").count() == 1
