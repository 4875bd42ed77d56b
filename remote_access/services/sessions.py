"""Support staff in a merchant account: entering, leaving, and the permanent turn-off."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ApplicationError
from accounts.models import Account, User

from ..models import AccessEvent, RemoteAccessGrant, RepresentativeSession, Team
from ..selectors import live_condition, staff_team
from .common import (
    ALREADY_IN_SESSION,
    NO_LIVE_GRANT,
    REMOTE_ACCESS_OFF,
    event_record,
    lock_account,
)

EndReason = RepresentativeSession.EndReason


def _visitor(session: RepresentativeSession) -> str:
    """ "Sam from Support": how the merchant's history names a representative."""
    return _("%(name)s from %(team)s") % {
        "name": session.staff_user.get_short_name(),
        "team": Team(session.team).label,
    }


def _ticket(reference: str) -> str:
    return f"#{reference}" if reference.isdigit() else reference


@transaction.atomic
def session_start(
    *,
    account: Account,
    staff_user: User,
    ticket_reference: str,
    note: str = "",
    source_ip: str | None = None,
    user_agent: str = "",
) -> RepresentativeSession:
    """Open a representative session on the account's live grant, whose row stays locked
    until the session and its event are written: a removal cannot slip in between."""
    grant = (
        RemoteAccessGrant.objects.select_for_update()
        .filter(live_condition(), account=account)
        .first()
    )
    if grant is None:
        raise ApplicationError(NO_LIVE_GRANT)
    account = Account.objects.get(pk=account.pk)
    if account.remote_access_disabled:
        raise ApplicationError(REMOTE_ACCESS_OFF)
    session = RepresentativeSession(
        staff_user=staff_user,
        account=account,
        grant=grant,
        team=staff_team(user=staff_user),
        ticket_reference=ticket_reference.strip(),
        note=note.strip(),
        source_ip=source_ip,
        user_agent=user_agent[:300],
    )
    session.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as error:  # the one-open-session constraint
        raise ApplicationError(ALREADY_IN_SESSION) from error
    event_record(
        account=account,
        kind=AccessEvent.Kind.SESSION_STARTED,
        summary=_("%(visitor)s entered the account — ticket %(ticket)s")
        % {"visitor": _visitor(session), "ticket": _ticket(session.ticket_reference)},
        staff_user=staff_user,
        grant=grant,
        session=session,
    )
    return session


def session_end(
    *, session: RepresentativeSession, reason: str, at: dt.datetime | None = None
) -> bool:
    """End an open session and log why. Returns False if it had already ended."""
    with transaction.atomic():
        ended = RepresentativeSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=at or timezone.now(), end_reason=reason
        )
        if not ended:
            return False
        session.refresh_from_db(fields=["ended_at", "end_reason"])
        if reason == EndReason.EXIT:
            summary = _("%(visitor)s left the account") % {"visitor": _visitor(session)}
        else:
            summary = _("%(visitor)s's visit ended: %(reason)s") % {
                "visitor": _visitor(session),
                "reason": EndReason(reason).label,
            }
        event_record(
            account=session.account,
            kind=AccessEvent.Kind.SESSION_ENDED,
            summary=summary,
            staff_user=session.staff_user,
            grant=session.grant,
            session=session,
            created_at=session.ended_at,
        )
    return True


def sessions_end_for_grant(*, grant: RemoteAccessGrant, reason: str) -> int:
    """End every open session on a grant that just stopped being live (inside its transaction)."""
    sessions = list(
        RepresentativeSession.objects.select_related("staff_user", "account", "grant").filter(
            grant=grant, ended_at__isnull=True
        )
    )
    return sum(session_end(session=session, reason=reason) for session in sessions)


REASON_REQUIRED = _("Say why remote access is being turned off; the merchant will read it.")


@transaction.atomic
def remote_access_disable(*, account: Account, staff_user: User, reason: str) -> Account:
    """Turn remote access off for good, at the merchant's request: revoke the live grant, end
    open sessions, log it and tell the Owners and Admins."""
    from .grants import notify_change

    if not reason.strip():
        raise ApplicationError(REASON_REQUIRED)
    account = lock_account(account)
    if account.remote_access_disabled:
        return account
    now = timezone.now()
    account.remote_access_disabled = True
    account.remote_access_disabled_at = now
    account.remote_access_disabled_by = staff_user
    account.remote_access_disabled_reason = reason.strip()
    account.save(
        update_fields=[
            "remote_access_disabled",
            "remote_access_disabled_at",
            "remote_access_disabled_by",
            "remote_access_disabled_reason",
        ]
    )
    grant = (
        RemoteAccessGrant.objects.select_for_update()
        .filter(account=account, status=RemoteAccessGrant.Status.ACTIVE)
        .first()
    )
    if grant is not None:
        grant.status = RemoteAccessGrant.Status.REVOKED
        grant.ended_at = now
        grant.ended_by = staff_user
        grant.save(update_fields=["status", "ended_at", "ended_by"])
        sessions_end_for_grant(grant=grant, reason=EndReason.DISABLED)
        notify_change(grant, "disabled")
    event_record(
        account=account,
        kind=AccessEvent.Kind.REMOTE_ACCESS_DISABLED,
        summary=_("%(vendor_staff)s turned remote access off: %(reason)s")
        % {"vendor_staff": staff_user.full_name, "reason": account.remote_access_disabled_reason},
        staff_user=staff_user,
        grant=grant,
    )
    return account


@transaction.atomic
def remote_access_enable(*, account: Account, staff_user: User) -> Account:
    account = lock_account(account)
    if not account.remote_access_disabled:
        return account
    account.remote_access_disabled = False
    account.remote_access_disabled_at = None
    account.remote_access_disabled_by = None
    account.remote_access_disabled_reason = ""
    account.save(
        update_fields=[
            "remote_access_disabled",
            "remote_access_disabled_at",
            "remote_access_disabled_by",
            "remote_access_disabled_reason",
        ]
    )
    event_record(
        account=account,
        kind=AccessEvent.Kind.REMOTE_ACCESS_ENABLED,
        summary=_("%(vendor_staff)s turned remote access back on")
        % {"vendor_staff": staff_user.full_name},
        staff_user=staff_user,
    )
    return account
