"""Support asks for access on a ticket; an Owner or Admin approves (a grant) or denies."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accounts.actors import MemberActor
from accounts.errors import ApplicationError
from accounts.models import Account
from accounts.roles import Role
from outbox.services import outbox_drain
from remote_access import rules
from remote_access.events import describe
from remote_access.models import AccessEvent, AccessRequest, RemoteAccessGrant, Scope
from remote_access.services import (
    REMOTE_ACCESS_OFF,
    access_grant,
    access_request_approve,
    access_request_create,
    access_request_deny,
    access_requests_expire_due,
    visit_start,
)
from remote_access.services.requests import (
    ALREADY_ASKED,
    OWN_REQUEST,
    PERIOD_NOT_OFFERED,
    REQUEST_EXPIRED,
    REQUEST_NOT_FOUND,
)
from tests.accounts.factories import MembershipFactory
from tests.remote_access.factories import AccessRequestFactory, GrantFactory
from tests.remote_access.test_database_invariants import _run_at_once

Status = AccessRequest.Status


def as_member(user, account, role=Role.OWNER):
    return MemberActor.for_membership(user=user, account=account, role=role)


def ask(account, staff, **overrides):
    fields = {
        "ticket_reference": "4411",
        "reason": "segment VIP shows 0 profiles",
        "duration": "7d",
    }
    return access_request_create(account=account, staff_user=staff, **{**fields, **overrides})


def kinds(account):
    return list(AccessEvent.objects.filter(account=account).values_list("kind", flat=True))


def test_ask__mails_owners_and_admins_and_writes_history(account, owner, admin, support_staff):
    """The mail says who asks for what, on which ticket, and links to the Security tab."""
    access_request = ask(account, support_staff)
    assert access_request.status == Status.PENDING
    assert access_request.expires_at - access_request.created_at == dt.timedelta(hours=24)
    assert kinds(account) == [AccessEvent.Kind.ACCESS_REQUESTED]
    outbox_drain()
    [message] = mail.outbox
    assert sorted(message.to) == ["admin@acme.test", "owner@acme.test"]
    assert message.subject == (
        "Sam from Latchkey Support asks for 7 days of access to Acme Store for ticket 4411: "
        "“segment VIP shows 0 profiles”"
    )
    assert "/grant-access" in message.body


def test_ask__once_per_staff_user_while_pending(account, owner, support_staff):
    ask(account, support_staff)
    with pytest.raises(ApplicationError, match=str(ALREADY_ASKED)[:30]):
        ask(account, support_staff, ticket_reference="4412")
    assert AccessRequest.objects.count() == 1


def test_ask__again_once_the_first_expired(account, owner, support_staff):
    """An unanswered request past its expiry (the sweep not run yet) makes way."""
    first = AccessRequestFactory(
        account=account,
        staff_user=support_staff,
        created_at=timezone.now() - dt.timedelta(hours=30),
        expires_at=timezone.now() - dt.timedelta(hours=6),
    )
    second = ask(account, support_staff)
    first.refresh_from_db()
    assert (first.status, second.status) == (Status.EXPIRED, Status.PENDING)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"duration": "365d"}, PERIOD_NOT_OFFERED),
        ({"duration": "resolved"}, PERIOD_NOT_OFFERED),
        ({"duration": "custom", "last_day": None}, "Pick the last day"),
        ({"duration": "custom", "days_ahead": 366}, "at most 365 days"),
        ({"ticket_reference": "  "}, rules.REQUEST_TICKET_REQUIRED),
        ({"reason": ""}, rules.REQUEST_REASON_REQUIRED),
    ],
)
def test_ask__refuses_what_support_may_not_ask(account, owner, support_staff, overrides, message):
    """No more than 90 days, or a custom date within the usual limit; ticket and reason."""
    days_ahead = overrides.pop("days_ahead", None)
    if days_ahead:
        overrides["last_day"] = timezone.now().astimezone(account.tzinfo).date() + dt.timedelta(
            days=days_ahead
        )
    with pytest.raises(ApplicationError, match=str(message)[:20]):
        ask(account, support_staff, **overrides)
    assert not AccessRequest.objects.exists()


def test_ask__a_custom_date_within_the_limit(account, owner, support_staff):
    last_day = timezone.now().astimezone(account.tzinfo).date() + dt.timedelta(days=200)
    access_request = ask(account, support_staff, duration="custom", last_day=last_day)
    assert access_request.last_day == last_day


def test_ask__refused_while_access_is_live_or_turned_off(account, owner, support_staff):
    GrantFactory(account=account, granted_by=owner)
    with pytest.raises(ApplicationError, match=str(rules.ALREADY_LIVE)):
        ask(account, support_staff)
    RemoteAccessGrant.objects.update(status=RemoteAccessGrant.Status.REVOKED)
    Account.objects.filter(pk=account.pk).update(remote_access_disabled=True)
    with pytest.raises(ApplicationError, match=str(rules.TURNED_OFF_FOR_STAFF)):
        ask(account, support_staff)


def test_approve__is_a_grant_made_by_the_approver(account, owner, support_staff):
    """granted_by is the approver; the grant links to the request and its ticket; one row."""
    access_request = ask(account, support_staff, scope=Scope.VIEW_ONLY)
    outbox_drain()
    mail.outbox.clear()
    grant = access_request_approve(
        account=account,
        actor=as_member(owner, account),
        request_id=access_request.pk,
        duration="7d",
        scope=Scope.VIEW_ONLY,
    )
    access_request.refresh_from_db()
    assert (access_request.status, access_request.grant, access_request.decided_by) == (
        Status.APPROVED,
        grant,
        owner,
    )
    assert (grant.granted_by, grant.scope, grant.access_request) == (
        owner,
        Scope.VIEW_ONLY,
        access_request,
    )
    assert kinds(account) == [AccessEvent.Kind.ACCESS_APPROVED, AccessEvent.Kind.ACCESS_REQUESTED]
    approved = AccessEvent.objects.get(kind=AccessEvent.Kind.ACCESS_APPROVED)
    assert describe(approved).startswith(
        "Olivia Owner approved Sam Support's request (ticket #4411): access for 7 days (until "
    )
    assert describe(approved).endswith("), view only")
    assert approved.grant == grant
    outbox_drain()
    by_recipient = {tuple(message.to): message for message in mail.outbox}
    assert "Olivia Owner approved your request" in by_recipient[("support@latchkey.test",)].subject
    assert "View only" in by_recipient[("owner@acme.test",)].body


def test_approve__only_once(account, owner, admin, support_staff):
    access_request = ask(account, support_staff)
    grant = access_request_approve(
        account=account,
        actor=as_member(owner, account),
        request_id=access_request.pk,
        duration="7d",
    )
    with pytest.raises(ApplicationError, match="already approved by Olivia Owner"):
        access_request_approve(
            account=account,
            actor=as_member(admin, account, Role.ADMIN),
            request_id=access_request.pk,
            duration="90d",
            expected_current_grant_id=grant.pk,
        )
    assert RemoteAccessGrant.objects.get() == grant
    assert kinds(account).count(AccessEvent.Kind.ACCESS_APPROVED) == 1


def test_approve__the_period_and_scope_can_be_changed(account, owner, support_staff):
    access_request = ask(account, support_staff, duration="90d", scope=Scope.FULL)
    grant = access_request_approve(
        account=account,
        actor=as_member(owner, account),
        request_id=access_request.pk,
        duration="1d",
        scope=Scope.VIEW_ONLY,
    )
    assert (grant.duration, grant.scope) == ("1d", Scope.VIEW_ONLY)


def test_approve__replaces_a_live_grant_by_the_usual_rules(account, owner, support_staff):
    """A grant made after the request was sent is replaced, if the approver saw it."""
    access_request = ask(account, support_staff)
    current = access_grant(account=account, actor=as_member(owner, account), duration="1d")
    with pytest.raises(ApplicationError, match="changed while you were on this page"):
        access_request_approve(
            account=account,
            actor=as_member(owner, account),
            request_id=access_request.pk,
            duration="7d",
        )
    grant = access_request_approve(
        account=account,
        actor=as_member(owner, account),
        request_id=access_request.pk,
        duration="7d",
        expected_current_grant_id=current.pk,
    )
    current.refresh_from_db()
    assert current.status == RemoteAccessGrant.Status.REPLACED
    assert RemoteAccessGrant.objects.get(status=RemoteAccessGrant.Status.ACTIVE) == grant


def test_approve__an_expired_request_is_refused(account, owner, support_staff):
    access_request = AccessRequestFactory(
        account=account,
        staff_user=support_staff,
        created_at=timezone.now() - dt.timedelta(hours=25),
        expires_at=timezone.now() - dt.timedelta(hours=1),
    )
    with pytest.raises(ApplicationError, match=str(REQUEST_EXPIRED)):
        access_request_approve(
            account=account,
            actor=as_member(owner, account),
            request_id=access_request.pk,
            duration="7d",
        )
    assert access_requests_expire_due() == 1
    with pytest.raises(ApplicationError, match=str(REQUEST_EXPIRED)):
        access_request_deny(
            account=account, actor=as_member(owner, account), request_id=access_request.pk
        )
    assert not RemoteAccessGrant.objects.exists()


def test_approve__another_accounts_request_is_refused(
    account, other_account, owner, other_owner, support_staff
):
    """An Owner of Globex cannot approve (or even find) Acme Store's request."""
    access_request = ask(account, support_staff)
    with pytest.raises(ApplicationError, match=str(REQUEST_NOT_FOUND)):
        access_request_approve(
            account=other_account,
            actor=as_member(other_owner, other_account),
            request_id=access_request.pk,
            duration="7d",
        )
    assert not RemoteAccessGrant.objects.exists()
    assert AccessRequest.objects.get().status == Status.PENDING


def test_approve__refused_while_remote_access_is_off(account, owner, support_staff):
    access_request = ask(account, support_staff)
    Account.objects.filter(pk=account.pk).update(remote_access_disabled=True)
    with pytest.raises(ApplicationError, match=str(REMOTE_ACCESS_OFF)):
        access_request_approve(
            account=account,
            actor=as_member(owner, account),
            request_id=access_request.pk,
            duration="7d",
        )
    assert not RemoteAccessGrant.objects.exists()


def test_approve__staff_cannot_approve_their_own_request(account, support_staff):
    """A staff user who is also an Owner of the account asks, then tries to approve."""
    MembershipFactory(account=account, user=support_staff, role=Role.OWNER)
    access_request = ask(account, support_staff)
    for decide in (access_request_approve, access_request_deny):
        extra = {"duration": "7d"} if decide is access_request_approve else {}
        with pytest.raises(ApplicationError, match=str(OWN_REQUEST)):
            decide(
                account=account,
                actor=as_member(support_staff, account),
                request_id=access_request.pk,
                **extra,
            )
    assert AccessRequest.objects.get().status == Status.PENDING


def test_deny__recorded_and_support_is_told_why(account, owner, support_staff):
    access_request = ask(account, support_staff)
    outbox_drain()
    mail.outbox.clear()
    access_request_deny(
        account=account,
        actor=as_member(owner, account),
        request_id=access_request.pk,
        reason="We fixed it ourselves",
    )
    access_request.refresh_from_db()
    assert (access_request.status, access_request.deny_reason) == (
        Status.DENIED,
        "We fixed it ourselves",
    )
    assert describe(AccessEvent.objects.get(kind=AccessEvent.Kind.ACCESS_DENIED)) == (
        "Olivia Owner denied Sam Support's request for access (ticket #4411): We fixed it ourselves"
    )
    outbox_drain()
    [message] = mail.outbox
    assert message.to == ["support@latchkey.test"]
    assert "We fixed it ourselves" in message.body
    with pytest.raises(ApplicationError, match="already denied"):
        access_request_approve(
            account=account,
            actor=as_member(owner, account),
            request_id=access_request.pk,
            duration="7d",
        )


def test_representative_enters_only_after_approval_and_until_expiry(account, owner, support_staff):
    access_request = ask(account, support_staff)
    with pytest.raises(ApplicationError, match=str(rules.NO_LIVE_GRANT)[:30]):
        visit_start(account=account, staff_user=support_staff, ticket_reference="4411")
    grant = access_request_approve(
        account=account,
        actor=as_member(owner, account),
        request_id=access_request.pk,
        duration="1d",
    )
    visit = visit_start(account=account, staff_user=support_staff, ticket_reference="4411")
    assert visit.grant == grant
    RemoteAccessGrant.objects.filter(pk=grant.pk).update(
        granted_at=timezone.now() - dt.timedelta(days=2),
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    with pytest.raises(ApplicationError, match=str(rules.NO_LIVE_GRANT)[:30]):
        visit_start(account=account, staff_user=support_staff, ticket_reference="4411")


def test_one_pending_request_per_staff_user__held_by_the_database(account, support_staff):
    from django.db import IntegrityError, transaction

    AccessRequestFactory(account=account, staff_user=support_staff)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessRequestFactory(account=account, staff_user=support_staff)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["approve", "deny"])
def test_approve_and_deny_racing__one_outcome_one_history_row(first):
    """Two admins in two tabs: whichever locks the request first decides; the other is
    refused, and the history holds exactly one decision."""
    from remote_access.services.staff import staff_member_set_team
    from tests.accounts.factories import AccountFactory, StaffUserFactory

    account = AccountFactory()
    owner = MembershipFactory(account=account, role=Role.OWNER).user
    admin = MembershipFactory(account=account, role=Role.ADMIN).user
    staff = StaffUserFactory()
    staff_member_set_team(user=staff, team="Support")
    access_request = ask(account, staff)
    approve = lambda: access_request_approve(  # noqa: E731
        account=account,
        actor=as_member(owner, account),
        request_id=access_request.pk,
        duration="7d",
    )
    deny = lambda: access_request_deny(  # noqa: E731
        account=account, actor=as_member(admin, account, Role.ADMIN), request_id=access_request.pk
    )
    outcomes = _run_at_once([approve, deny] if first == "approve" else [deny, approve])
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(refused) == 1, outcomes
    assert "already" in refused[0].message
    access_request.refresh_from_db()
    decisions = AccessEvent.objects.filter(
        account=account, kind__in=[AccessEvent.Kind.ACCESS_APPROVED, AccessEvent.Kind.ACCESS_DENIED]
    )
    assert decisions.count() == 1
    live = RemoteAccessGrant.objects.filter(account=account, status="active").count()
    assert (access_request.status, live) in ((Status.APPROVED, 1), (Status.DENIED, 0))


def test_expire_access_requests_task__marks_only_overdue_ones(account, support_staff):
    """Beat tidies: an overdue pending request becomes expired; a fresh one stays pending."""
    from remote_access.tasks import expire_access_requests

    fresh = AccessRequestFactory(account=account)
    overdue = AccessRequestFactory(
        account=account,
        staff_user=support_staff,
        created_at=timezone.now() - dt.timedelta(hours=25),
        expires_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert expire_access_requests() == 1
    fresh.refresh_from_db()
    overdue.refresh_from_db()
    assert (fresh.status, overdue.status) == (Status.PENDING, Status.EXPIRED)
