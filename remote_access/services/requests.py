"""Support asking a merchant for access on a ticket, the merchant deciding, and support
requests being resolved (which ends access granted "until this request is resolved").

Approval is a grant: it goes through `access_grant`, the service behind Save, so every rule
of a grant holds for it (DESIGN §5), and its one history row says it approved the request.
Locks are taken account first, then the request, as `access_grant` does.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.authorization import require_capability
from accounts.errors import ApplicationError
from accounts.models import Account, User
from accounts.roles import Capability

from .. import rules
from ..mail import (
    access_change_mail_enqueue,
    access_request_decision_mail_enqueue,
    access_request_mail_enqueue,
)
from ..models import (
    AccessEvent,
    AccessRequest,
    Duration,
    RemoteAccessGrant,
    RepresentativeSession,
    Scope,
    SupportRequest,
)
from ..periods import CUSTOM_DATE_REQUIRED, GRANT_PERIODS, custom_date_error
from ..selectors import live_grant, pending_condition, staff_team
from .common import REMOTE_ACCESS_OFF, event_record, lock_account
from .ending import grant_end
from .expiry import grant_expire_if_overdue
from .grants import access_grant

PERIOD_NOT_OFFERED = gettext_lazy(
    "Choose 1, 7, 30 or 90 days, or a custom date: support can't ask for more."
)
ALREADY_ASKED = gettext_lazy(
    "You already asked for access to this account. Wait for the merchant's answer, or for "
    "the request to expire."
)
REQUEST_NOT_FOUND = gettext_lazy(
    "That request for access is not one of this account's. Nothing was changed."
)
REQUEST_EXPIRED = gettext_lazy(
    "That request for access expired before anyone answered it; support can ask again."
)
REQUEST_ALREADY_DECIDED = gettext_lazy(
    "That request for access was already %(status)s by %(name)s. Nothing was changed."
)
OWN_REQUEST = gettext_lazy(
    "You asked for this access yourself, so another Owner or Admin has to approve or deny it."
)


def _check_period(*, account: Account, duration: str, last_day: dt.date | None, now) -> None:
    if duration not in {value for value, _label in GRANT_PERIODS}:
        raise ApplicationError(PERIOD_NOT_OFFERED, field="duration")
    if duration == Duration.CUSTOM:
        if last_day is None:
            raise ApplicationError(CUSTOM_DATE_REQUIRED, field="last_day")
        error = custom_date_error(account=account, now=now, last_day=last_day)
        if error:
            raise ApplicationError(error, field="last_day")


def _request_facts(access_request: AccessRequest, **payload) -> dict:
    """What the history keeps of a request: the request as the object touched (its ticket as
    the label) and what was asked for."""
    return {
        "object_type": "access_request",
        "object_id": access_request.pk,
        "object_label": access_request.ticket_reference,
        "payload": {
            "duration": access_request.duration,
            "last_day": access_request.last_day.isoformat() if access_request.last_day else "",
            "scope": access_request.scope,
            "requested_by": access_request.staff_user.full_name,
            "reason": access_request.reason,
            **payload,
        },
    }


@transaction.atomic
def access_request_create(
    *,
    account: Account,
    staff_user: User,
    ticket_reference: str,
    reason: str,
    duration: str,
    last_day: dt.date | None = None,
    scope: str = Scope.FULL,
) -> AccessRequest:
    """Ask the account's Owners and Admins for access on a ticket. Only while nothing is
    live and remote access is on; one pending request per staff user and account."""
    if not rules.staff_may_enter(staff_user):
        raise ApplicationError(rules.CANNOT_ENTER)
    if not ticket_reference.strip():
        raise ApplicationError(rules.REQUEST_TICKET_REQUIRED, field="ticket_reference")
    if not reason.strip():
        raise ApplicationError(rules.REQUEST_REASON_REQUIRED, field="reason")
    now = timezone.now()
    _check_period(account=account, duration=duration, last_day=last_day, now=now)
    account = lock_account(account)
    if account.remote_access_disabled:
        raise ApplicationError(rules.TURNED_OFF_FOR_STAFF)
    if live_grant(account=account, now=now) is not None:
        raise ApplicationError(rules.ALREADY_LIVE)
    mine = AccessRequest.objects.filter(
        account=account, staff_user=staff_user, status=AccessRequest.Status.PENDING
    )
    if mine.filter(pending_condition(now=now)).exists():
        raise ApplicationError(ALREADY_ASKED)
    # An unanswered request past its expiry makes way for the new one (the sweep may lag).
    mine.update(status=AccessRequest.Status.EXPIRED)
    access_request = AccessRequest(
        account=account,
        staff_user=staff_user,
        team=staff_team(user=staff_user),
        ticket_reference=ticket_reference.strip(),
        reason=reason.strip(),
        duration=duration,
        last_day=last_day if duration == Duration.CUSTOM else None,
        scope=scope,
        created_at=now,
        expires_at=now + settings.ACCESS_REQUEST_PENDING,
    )
    access_request.full_clean(validate_constraints=False)
    access_request.save()
    event_record(
        account=account,
        kind=AccessEvent.Kind.ACCESS_REQUESTED,
        staff_user=staff_user,
        team=access_request.team,
        **_request_facts(access_request),
    )
    access_request_mail_enqueue(access_request=access_request)
    return access_request


def _request_to_decide(*, account: Account, actor: Actor, request_id: int) -> AccessRequest:
    """The request, locked, once it is this account's, still pending and not the actor's own.
    Each refusal on its own line."""
    access_request = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("staff_user", "decided_by")
        .filter(account=account, pk=request_id)
        .first()
    )
    if access_request is None:
        raise ApplicationError(REQUEST_NOT_FOUND)
    if access_request.status in (AccessRequest.Status.APPROVED, AccessRequest.Status.DENIED):
        raise ApplicationError(
            REQUEST_ALREADY_DECIDED
            % {
                "status": access_request.get_status_display().lower(),
                "name": access_request.decided_by.full_name,
            }
        )
    if access_request.status == AccessRequest.Status.EXPIRED:
        raise ApplicationError(REQUEST_EXPIRED)
    if access_request.expires_at <= timezone.now():
        raise ApplicationError(REQUEST_EXPIRED)
    if access_request.staff_user_id == actor.user.pk:
        raise ApplicationError(OWN_REQUEST)
    return access_request


def _decided(access_request: AccessRequest, *, status: str, actor: Actor) -> None:
    access_request.status = status
    access_request.decided_by = actor.user
    access_request.decided_at = timezone.now()


@transaction.atomic
def access_request_approve(
    *,
    account: Account,
    actor: Actor,
    request_id: int,
    duration: str,
    last_day: dt.date | None = None,
    scope: str = Scope.FULL,
    expected_current_grant_id: int | None = None,
) -> RemoteAccessGrant:
    """Approve support's request with the period and scope chosen (the request's, unless
    changed): a grant made by `access_grant`, linked to the request and its ticket."""
    require_capability(actor, account, Capability.MANAGE_REMOTE_ACCESS)
    account = lock_account(account)
    access_request = _request_to_decide(account=account, actor=actor, request_id=request_id)
    if account.remote_access_disabled:
        raise ApplicationError(REMOTE_ACCESS_OFF)
    _check_period(account=account, duration=duration, last_day=last_day, now=timezone.now())
    grant = access_grant(
        account=account,
        actor=actor,
        duration=duration,
        last_day=last_day,
        scope=scope,
        expected_current_grant_id=expected_current_grant_id,
        access_request=access_request,
    )
    _decided(access_request, status=AccessRequest.Status.APPROVED, actor=actor)
    access_request.grant = grant
    access_request.save(update_fields=["status", "decided_by", "decided_at", "grant"])
    access_request_decision_mail_enqueue(access_request=access_request)
    return grant


@transaction.atomic
def access_request_deny(
    *, account: Account, actor: Actor, request_id: int, reason: str = ""
) -> AccessRequest:
    """Deny support's request; the staff member is told, with the reason when one is given."""
    require_capability(actor, account, Capability.MANAGE_REMOTE_ACCESS)
    account = lock_account(account)
    access_request = _request_to_decide(account=account, actor=actor, request_id=request_id)
    _decided(access_request, status=AccessRequest.Status.DENIED, actor=actor)
    access_request.deny_reason = reason.strip()
    access_request.full_clean(validate_constraints=False)
    access_request.save(update_fields=["status", "decided_by", "decided_at", "deny_reason"])
    event_record(
        account=account,
        kind=AccessEvent.Kind.ACCESS_DENIED,
        actor=actor,
        **_request_facts(access_request, deny_reason=access_request.deny_reason),
    )
    access_request_decision_mail_enqueue(access_request=access_request)
    return access_request


def access_requests_expire_due(*, now: dt.datetime | None = None) -> int:
    """Mark the requests nobody answered in time as expired (beat). Tidying only: whether a
    request is still pending is decided against the clock wherever it is read."""
    return AccessRequest.objects.filter(
        status=AccessRequest.Status.PENDING, expires_at__lte=now or timezone.now()
    ).update(status=AccessRequest.Status.EXPIRED)


@transaction.atomic
def support_request_resolve(*, support_request: SupportRequest, staff_user: User) -> bool:
    """Mark a support request resolved, ending the access granted "until this request is
    resolved" with it, and its open visits. Returns False if it was resolved already."""
    if not rules.staff_may_enter(staff_user):
        raise ApplicationError(rules.CANNOT_RESOLVE)
    support_request = SupportRequest.objects.select_for_update().get(pk=support_request.pk)
    if support_request.status == SupportRequest.Status.CLOSED:
        return False
    now = timezone.now()
    support_request.status = SupportRequest.Status.CLOSED
    support_request.resolved_at = now
    support_request.resolved_by = staff_user
    support_request.save(update_fields=["status", "resolved_at", "resolved_by"])
    ended = None
    for grant in RemoteAccessGrant.objects.select_for_update().filter(
        support_request=support_request,
        duration=Duration.UNTIL_RESOLVED,
        status=RemoteAccessGrant.Status.ACTIVE,
    ):
        if grant_expire_if_overdue(grant=grant, now=now):
            continue
        grant_end(
            grant=grant,
            status=RemoteAccessGrant.Status.REVOKED,
            ended_by=staff_user,
            at=now,
            visit_end_reason=RepresentativeSession.EndReason.RESOLVED,
        )
        access_change_mail_enqueue(grant=grant, change="resolved")
        ended = grant
    event_record(
        account=support_request.account,
        kind=AccessEvent.Kind.REQUEST_RESOLVED,
        staff_user=staff_user,
        team=staff_team(user=staff_user),
        grant=ended,
        object_type="support_request",
        object_id=support_request.pk,
        payload={"access_ended": ended is not None},
    )
    return True


@transaction.atomic
def support_request_reopen(*, support_request: SupportRequest, staff_user: User) -> bool:
    """Reopen a resolved support request. Access that ended with it stays ended: the merchant
    grants again if support still needs it. Returns False if it was open already."""
    if not rules.staff_may_enter(staff_user):
        raise ApplicationError(rules.CANNOT_RESOLVE)
    support_request = SupportRequest.objects.select_for_update().get(pk=support_request.pk)
    if support_request.status == SupportRequest.Status.OPEN:
        return False
    support_request.status = SupportRequest.Status.OPEN
    support_request.resolved_at = None
    support_request.resolved_by = None
    support_request.save(update_fields=["status", "resolved_at", "resolved_by"])
    event_record(
        account=support_request.account,
        kind=AccessEvent.Kind.REQUEST_REOPENED,
        staff_user=staff_user,
        team=staff_team(user=staff_user),
        object_type="support_request",
        object_id=support_request.pk,
    )
    return True
