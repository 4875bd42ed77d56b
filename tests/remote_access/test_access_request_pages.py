"""The pages around just-in-time access: asking in admin, deciding on the Security tab,
view-only grants, and access that ends when a support request is resolved."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from remote_access.events import describe
from remote_access.models import (
    AccessEvent,
    AccessRequest,
    Duration,
    RemoteAccessGrant,
    RepresentativeSession,
    Scope,
    SupportRequest,
)
from tests.conftest import verify_two_factor
from tests.remote_access.factories import AccessRequestFactory, GrantFactory
from tests.remote_access.test_support_sessions import account_admin_url, enter_url

SECURITY = reverse("remote_access:security")
CONTACT = reverse("remote_access:contact")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    verify_two_factor(client, user)
    return client


def ask_url(account):
    return reverse("admin:accounts_account_ask_for_access", args=[account.pk])


def approve_url(access_request):
    return reverse("remote_access:access_request_approve", args=[access_request.pk])


def deny_url(access_request):
    return reverse("remote_access:access_request_deny", args=[access_request.pk])


ASK = {
    "ticket_reference": "4411",
    "reason": "segment VIP shows 0 profiles",
    "duration": "7d",
    "scope": "view_only",
}


# --- asking, in admin ---------------------------------------------------------------------


def test_ask_for_access__from_the_account_page(account, owner, support_staff):
    client = signed_in(support_staff)
    page = client.get(account_admin_url(account)).content.decode()
    assert "Ask for access" in page
    form = client.get(ask_url(account)).content.decode()
    assert "Ticket reference" in form
    assert "What you need to look at" in form
    assert "Full access" in form
    assert "View only" in form
    response = client.post(ask_url(account), ASK)
    assert response.status_code == 302
    access_request = AccessRequest.objects.get()
    assert (access_request.staff_user, access_request.scope) == (support_staff, Scope.VIEW_ONLY)
    page = client.get(account_admin_url(account)).content.decode()
    assert "waiting for the merchant" in page


def test_ask_for_access__both_texts_required_and_kept(account, owner, support_staff):
    client = signed_in(support_staff)
    response = client.post(ask_url(account), {**ASK, "reason": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Say what you need to look at" in page
    assert 'value="4411"' in page
    assert not AccessRequest.objects.exists()


def test_ask_for_access__not_while_access_is_live(account, owner, support_staff):
    GrantFactory(account=account, granted_by=owner)
    client = signed_in(support_staff)
    assert "Ask for access" not in client.get(account_admin_url(account)).content.decode()
    response = client.post(ask_url(account), ASK)
    assert response.status_code == 403
    assert "Access is already live" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_ask_for_access__rate_limited(account, owner, support_staff):
    client = signed_in(support_staff)
    statuses = [client.post(ask_url(account), ASK).status_code for _ in range(6)]
    assert statuses[-1] == 429
    assert AccessRequest.objects.count() == 1


def test_ask_for_access__the_admin_page_shows_a_denial_and_its_reason(
    account, owner, support_staff
):
    AccessRequestFactory(
        account=account,
        staff_user=support_staff,
        status=AccessRequest.Status.DENIED,
        decided_by=owner,
        decided_at=timezone.now(),
        deny_reason="We fixed it ourselves",
    )
    page = signed_in(support_staff).get(account_admin_url(account)).content.decode()
    assert "denied" in page
    assert "We fixed it ourselves" in page


# --- deciding, on the Security tab ------------------------------------------------------------


def test_security_tab__owner_sees_the_request_with_approve_and_deny(account, owner):
    access_request = AccessRequestFactory(
        account=account, duration=Duration.THIRTY_DAYS, scope=Scope.VIEW_ONLY
    )
    page = signed_in(owner).get(SECURITY).content.decode()
    assert "asks for 30 days of access (view only) to Acme Store" in page
    assert ">Approve</button>" in page
    assert ">Deny</button>" in page
    prefix = f"request-{access_request.pk}"
    assert (
        f'name="{prefix}-duration" value="30d" id="id_{prefix}-duration_2" required checked' in page
    )
    assert f'name="{prefix}-scope" value="view_only" id="id_{prefix}-scope_1" checked' in page


@pytest.mark.parametrize("persona", ["manager", "analyst"])
def test_security_tab__managers_and_analysts_see_requests_but_cannot_decide(
    persona, request, account
):
    access_request = AccessRequestFactory(account=account)
    user = request.getfixturevalue(persona)
    client = signed_in(user)
    page = client.get(SECURITY).content.decode()
    assert "asks for 7 days of access" in page
    assert ">Approve</button>" not in page
    assert "Only Owners and Admins can approve or deny these requests" in page
    assert client.post(approve_url(access_request), {}).status_code == 403
    assert client.post(deny_url(access_request), {}).status_code == 403
    assert AccessRequest.objects.get().status == AccessRequest.Status.PENDING


def test_security_tab__approve(account, owner, support_staff):
    access_request = AccessRequestFactory(account=account, staff_user=support_staff)
    prefix = f"request-{access_request.pk}"
    client = signed_in(owner)
    response = client.post(
        approve_url(access_request),
        {f"{prefix}-duration": "1d", f"{prefix}-scope": "full", f"{prefix}-current_grant": ""},
    )
    assert response.status_code == 302
    grant = RemoteAccessGrant.objects.get()
    assert (grant.granted_by, grant.duration, grant.access_request) == (owner, "1d", access_request)
    page = client.get(SECURITY).content.decode()
    assert "Request approved" in page
    assert "Sam Support, for ticket" in page


def test_security_tab__approve_with_a_bad_date_keeps_the_choice(account, owner):
    access_request = AccessRequestFactory(account=account)
    prefix = f"request-{access_request.pk}"
    response = signed_in(owner).post(
        approve_url(access_request),
        {f"{prefix}-duration": "custom", f"{prefix}-last_day": "2001-01-01"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Pick a date from tomorrow on" in page
    assert 'value="2001-01-01"' in page
    assert AccessRequest.objects.get().status == AccessRequest.Status.PENDING


def test_security_tab__deny_with_a_reason(account, owner):
    access_request = AccessRequestFactory(account=account)
    response = signed_in(owner).post(
        deny_url(access_request), {f"deny-{access_request.pk}-reason": "Not today"}
    )
    assert response.status_code == 302
    access_request.refresh_from_db()
    assert (access_request.status, access_request.deny_reason) == ("denied", "Not today")


def test_security_tab__another_accounts_request_is_404(account, owner, other_account):
    foreign = AccessRequestFactory(account=other_account)
    client = signed_in(owner)
    assert client.post(approve_url(foreign), {}).status_code == 404
    assert client.post(deny_url(foreign), {}).status_code == 404
    assert AccessRequest.objects.get().status == AccessRequest.Status.PENDING


def test_security_tab__an_expired_request_is_not_listed(account, owner):
    AccessRequestFactory(
        account=account,
        created_at=timezone.now() - dt.timedelta(hours=25),
        expires_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert "Requests for access" not in signed_in(owner).get(SECURITY).content.decode()


# --- scope ----------------------------------------------------------------------------------


def test_grant_form__offers_the_scope_full_by_default(account, owner):
    page = signed_in(owner).get(SECURITY).content.decode()
    assert 'name="scope" value="full" id="id_scope_0" checked' in page
    assert "View only" in page
    assert "can't save, change or delete anything" in page
    assert "Until this request is resolved" not in page


def test_grant_form__view_only_grant_shows_in_the_status_and_history(account, owner):
    client = signed_in(owner)
    response = client.post(SECURITY, {"duration": "7d", "scope": "view_only", "current_grant": ""})
    assert response.status_code == 302
    assert RemoteAccessGrant.objects.get().scope == Scope.VIEW_ONLY
    page = client.get(SECURITY).content.decode()
    assert "(support can look but not change anything)" in page
    assert "granted access for 7 days (until " in page
    assert "), view only" in page


def test_banner__says_view_only(account, owner, support_staff):
    GrantFactory(account=account, granted_by=owner, scope=Scope.VIEW_ONLY)
    client = signed_in(support_staff)
    assert client.post(enter_url(account), {"ticket_reference": "4411"}).status_code == 302
    assert "<strong>view only</strong>" in client.get("/").content.decode()


# --- until the support request is resolved ----------------------------------------------------


def test_contact__until_resolved(account, owner):
    client = signed_in(owner)
    response = client.post(
        CONTACT,
        {"team": "support", "subject": "VIP", "message": "0 profiles", "duration": "resolved"},
    )
    assert response.status_code == 302
    grant = RemoteAccessGrant.objects.get()
    support_request = SupportRequest.objects.get()
    assert (grant.duration, grant.support_request) == (Duration.UNTIL_RESOLVED, support_request)
    assert grant.expires_at - grant.granted_at == dt.timedelta(days=30)
    page = client.get(SECURITY).content.decode()
    assert f"until request #{support_request.pk} is resolved (at the latest " in page
    assert (
        "Until this request is resolved (at most 30 days)" in client.get(CONTACT).content.decode()
    )


def test_security_tab__refuses_until_resolved_without_a_request(account, owner):
    response = signed_in(owner).post(SECURITY, {"duration": "resolved", "current_grant": ""})
    assert response.status_code == 400
    assert not RemoteAccessGrant.objects.exists()


def _resolve(client, support_request, action="mark_resolved"):
    return client.post(
        reverse("admin:remote_access_supportrequest_changelist"),
        {"action": action, "_selected_action": [support_request.pk]},
    )


def test_resolving__ends_the_grant_and_the_visit_on_the_next_request(
    account, owner, support_staff, csm
):
    """Staff mark the request resolved; the representative inside is out on their next click,
    the history says why, and reopening does not bring access back."""
    signed_in(owner).post(
        CONTACT,
        {"team": "support", "subject": "VIP", "message": "0 profiles", "duration": "resolved"},
    )
    support_request = SupportRequest.objects.get()
    representative = signed_in(support_staff)
    assert representative.post(enter_url(account), {"ticket_reference": "39"}).status_code == 302
    assert representative.get("/").status_code == 200

    assert _resolve(signed_in(csm), support_request).status_code == 302
    support_request.refresh_from_db()
    assert (support_request.status, support_request.resolved_by) == ("closed", csm)
    grant = RemoteAccessGrant.objects.get()
    assert (grant.status, grant.ended_by) == (RemoteAccessGrant.Status.REVOKED, csm)

    response = representative.get("/")
    assert response.status_code == 302
    assert response.url == account_admin_url(account)
    visit = RepresentativeSession.objects.get()
    assert visit.end_reason == RepresentativeSession.EndReason.RESOLVED
    summaries = [describe(event) for event in AccessEvent.objects.all()]
    assert any("visit ended: the support request was resolved" in s for s in summaries)
    assert any(
        f"marked support request #{support_request.pk} resolved; the access granted until "
        "then has ended" in s
        for s in summaries
    )

    _resolve(signed_in(csm), support_request, action="reopen")
    support_request.refresh_from_db()
    assert support_request.status == "open"
    assert not RemoteAccessGrant.objects.filter(status="active").exists()
    assert AccessEvent.objects.filter(kind=AccessEvent.Kind.REQUEST_REOPENED).count() == 1


def test_resolving__leaves_a_grant_for_a_period_alone(account, owner, support_staff):
    """Only "until resolved" ends with the request; "7 days with the request" stays."""
    signed_in(owner).post(
        CONTACT, {"team": "support", "subject": "VIP", "message": "0", "duration": "7d"}
    )
    _resolve(signed_in(support_staff), SupportRequest.objects.get())
    assert RemoteAccessGrant.objects.get().status == RemoteAccessGrant.Status.ACTIVE
    assert SupportRequest.objects.get().status == "closed"


def test_security_tab__no_buttons_on_ones_own_request(account, support_staff):
    """A staff user who is also an Owner sees their own request without Approve or Deny."""
    from accounts.roles import Role
    from tests.accounts.factories import MembershipFactory

    MembershipFactory(account=account, user=support_staff, role=Role.OWNER)
    AccessRequestFactory(account=account, staff_user=support_staff)
    page = signed_in(support_staff).get(SECURITY).content.decode().replace("&#x27;", "'")
    assert ">Approve</button>" not in page
    assert "You asked for this access yourself" in page


def test_security_tab__queries_do_not_grow_with_pending_requests(account, owner):
    """One pending request or five: the page makes the same number of queries."""
    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.accounts.factories import StaffUserFactory

    client = signed_in(owner)

    def queries() -> int:
        caches["fragments"].clear()  # both pages render their history afresh
        with CaptureQueriesContext(connection) as captured:
            assert client.get(SECURITY).status_code == 200
        return len(captured)

    AccessRequestFactory(account=account)
    queries()  # the session's first page here costs a round trip more (accounts.sessions)
    one = queries()
    for _ in range(4):
        AccessRequestFactory(account=account, staff_user=StaffUserFactory())
    assert queries() == one


def test_security_tab__deny_with_a_reason_too_long_keeps_it(account, owner):
    access_request = AccessRequestFactory(account=account)
    reason = "x" * 501
    response = signed_in(owner).post(
        deny_url(access_request), {f"deny-{access_request.pk}-reason": reason}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 500 characters" in page
    assert reason in page
    assert AccessRequest.objects.get().status == AccessRequest.Status.PENDING
