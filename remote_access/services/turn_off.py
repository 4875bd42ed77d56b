"""Turning remote access off for good, at the merchant's request, and back on (staff only)."""

from django.db import transaction
from django.utils import timezone

from accounts.errors import ApplicationError
from accounts.models import Account, User

from .. import rules
from ..models import AccessEvent, RemoteAccessGrant, RepresentativeSession
from ..selectors import staff_team
from .common import event_record, lock_account
from .ending import grant_end
from .grants import notify_change

_TURN_OFF_FIELDS = [
    "remote_access_disabled",
    "remote_access_disabled_at",
    "remote_access_disabled_by",
    "remote_access_disabled_reason",
]


@transaction.atomic
def remote_access_disable(*, account: Account, staff_user: User, reason: str) -> Account:
    """Turn remote access off for good: end the live grant and its visits, log it and tell
    the Owners and Admins. (Stored as `remote_access_disabled`, DESIGN §4; people read
    "turned off".)"""
    if not rules.staff_may_turn_off(staff_user):
        raise ApplicationError(rules.CANNOT_TURN_OFF)
    if not reason.strip():
        raise ApplicationError(rules.REASON_REQUIRED, field="reason")
    account = lock_account(account)
    if account.remote_access_disabled:
        return account
    now = timezone.now()
    account.remote_access_disabled = True
    account.remote_access_disabled_at = now
    account.remote_access_disabled_by = staff_user
    account.remote_access_disabled_reason = reason.strip()
    account.save(update_fields=_TURN_OFF_FIELDS)
    grant = (
        RemoteAccessGrant.objects.select_for_update()
        .filter(account=account, status=RemoteAccessGrant.Status.ACTIVE)
        .first()
    )
    if grant is not None:
        grant_end(
            grant=grant,
            status=RemoteAccessGrant.Status.REVOKED,
            ended_by=staff_user,
            at=now,
            visit_end_reason=RepresentativeSession.EndReason.DISABLED,
        )
        notify_change(grant, "disabled")
    event_record(
        account=account,
        kind=AccessEvent.Kind.REMOTE_ACCESS_DISABLED,
        staff_user=staff_user,
        team=staff_team(user=staff_user),
        grant=grant,
        payload={"reason": account.remote_access_disabled_reason},
    )
    return account


@transaction.atomic
def remote_access_enable(*, account: Account, staff_user: User) -> Account:
    if not rules.staff_may_turn_off(staff_user):
        raise ApplicationError(rules.CANNOT_TURN_OFF)
    account = lock_account(account)
    if not account.remote_access_disabled:
        return account
    account.remote_access_disabled = False
    account.remote_access_disabled_at = None
    account.remote_access_disabled_by = None
    account.remote_access_disabled_reason = ""
    account.save(update_fields=_TURN_OFF_FIELDS)
    event_record(
        account=account,
        kind=AccessEvent.Kind.REMOTE_ACCESS_ENABLED,
        staff_user=staff_user,
        team=staff_team(user=staff_user),
    )
    return account
