"""Granting, replacing and removing access. Each is one transaction that locks the account
row and writes its AccessEvent alongside the change it records (DESIGN §5.7)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.authorization import require_capability
from accounts.errors import ApplicationError
from accounts.models import Account
from accounts.roles import Capability

from ..mail import access_change_mail_enqueue
from ..models import (
    AccessEvent,
    AccessRequest,
    Duration,
    RemoteAccessGrant,
    RepresentativeSession,
    Scope,
    SupportRequest,
)
from ..periods import expires_at_for
from .common import (
    GRANT_CHANGED_MEANWHILE,
    NOTHING_TO_REMOVE,
    REMOTE_ACCESS_OFF,
    event_record,
    lock_account,
)
from .ending import grant_end
from .expiry import grant_expire_if_overdue

UNTIL_RESOLVED_NEEDS_REQUEST = gettext_lazy(
    "“Until this request is resolved” can only be chosen when sending a support request."
)


def notify_change(grant: RemoteAccessGrant, change: str) -> None:
    # An outbox row in this transaction: the mail exists exactly when the change does.
    access_change_mail_enqueue(grant=grant, change=change)


@transaction.atomic
def access_grant(
    *,
    account: Account,
    actor: Actor,
    duration: str,
    last_day: dt.date | None = None,
    expected_current_grant_id: int | None = None,
    support_request: SupportRequest | None = None,
    scope: str = Scope.FULL,
    access_request: AccessRequest | None = None,
) -> RemoteAccessGrant:
    """Grant support access, replacing the current grant if there is one.

    `expected_current_grant_id` is the grant the person saw when they chose (None for "no
    access"). If it is no longer the active one — a double submit, or another admin acting
    meanwhile — nothing changes and they are told so.

    `access_request`: the request from support this grant approves (services/requests.py,
    which checked and locked it); the one history row then says so.
    """
    require_capability(actor, account, Capability.MANAGE_REMOTE_ACCESS)
    if duration == Duration.UNTIL_RESOLVED and support_request is None:
        raise ApplicationError(UNTIL_RESOLVED_NEEDS_REQUEST, field="duration")
    account = lock_account(account)
    if account.remote_access_disabled:
        raise ApplicationError(REMOTE_ACCESS_OFF)
    now = timezone.now()
    current = (
        RemoteAccessGrant.objects.select_for_update()
        .filter(account=account, status=RemoteAccessGrant.Status.ACTIVE)
        .first()
    )
    if current is not None and grant_expire_if_overdue(grant=current, now=now):
        current = None
    if (current.pk if current else None) != expected_current_grant_id:
        raise ApplicationError(GRANT_CHANGED_MEANWHILE)

    if current is not None:
        grant_end(
            grant=current,
            status=RemoteAccessGrant.Status.REPLACED,
            ended_by=actor.user,
            at=now,
            visit_end_reason=RepresentativeSession.EndReason.REPLACED,
        )
    grant = RemoteAccessGrant(
        account=account,
        granted_by=actor.user,
        granted_at=now,
        expires_at=expires_at_for(account=account, duration=duration, now=now, last_day=last_day),
        duration=duration,
        source=(
            RemoteAccessGrant.Source.SUPPORT_REQUEST
            if support_request
            else RemoteAccessGrant.Source.SECURITY_PAGE
        ),
        support_request=support_request,
        scope=scope,
    )
    grant.full_clean(validate_constraints=False)
    grant.save()
    payload = {"duration": grant.duration}
    if support_request is not None:
        payload["support_request"] = support_request.pk
    if access_request is not None:
        event_record(
            account=account,
            kind=AccessEvent.Kind.ACCESS_APPROVED,
            actor=actor,
            grant=grant,
            object_type="access_request",
            object_id=access_request.pk,
            object_label=access_request.ticket_reference,
            payload={**payload, "requested_by": access_request.staff_user.full_name},
        )
    else:
        kind = AccessEvent.Kind.REPLACED if current is not None else AccessEvent.Kind.GRANTED
        event_record(account=account, kind=kind, actor=actor, grant=grant, payload=payload)
    notify_change(grant, "replaced" if current is not None else "granted")
    return grant


@transaction.atomic
def access_remove(*, account: Account, actor: Actor, grant_id: int) -> RemoteAccessGrant:
    """End the live grant `grant_id` now. Support's next request ends their session."""
    require_capability(actor, account, Capability.MANAGE_REMOTE_ACCESS)
    account = lock_account(account)
    grant = RemoteAccessGrant.objects.select_for_update().get(account=account, pk=grant_id)
    now = timezone.now()
    grant_expire_if_overdue(grant=grant, now=now)
    if grant.status != RemoteAccessGrant.Status.ACTIVE:
        raise ApplicationError(NOTHING_TO_REMOVE)
    grant_end(
        grant=grant,
        status=RemoteAccessGrant.Status.REVOKED,
        ended_by=actor.user,
        at=now,
        visit_end_reason=RepresentativeSession.EndReason.REVOKED,
    )
    event_record(
        account=account,
        kind=AccessEvent.Kind.REMOVED,
        actor=actor,
        grant=grant,
    )
    notify_change(grant, "removed")
    return grant


@transaction.atomic
def support_request_create(
    *,
    account: Account,
    actor: Actor,
    team: str,
    subject: str,
    message: str,
    duration: str | None = None,
    last_day: dt.date | None = None,
    expected_current_grant_id: int | None = None,
    scope: str = Scope.FULL,
) -> tuple[SupportRequest, RemoteAccessGrant | None]:
    """Create a support request and, when asked, the grant that goes with it, together."""
    require_capability(actor, account, Capability.CONTACT_SUPPORT)
    support_request = SupportRequest(
        account=account, requested_by=actor.user, team=team, subject=subject, message=message
    )
    support_request.full_clean()
    support_request.save()
    grant = None
    if duration:
        grant = access_grant(
            account=account,
            actor=actor,
            duration=duration,
            last_day=last_day,
            expected_current_grant_id=expected_current_grant_id,
            support_request=support_request,
            scope=scope,
        )
    return support_request, grant
