"""Writes for remote access. Each service is one transaction that locks the account row and
writes its AccessEvent alongside the change it records (DESIGN §5.7)."""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Account
from accounts.roles import Capability

from .models import AccessEvent, Duration, RemoteAccessGrant, SupportRequest
from .periods import expires_at_for
from .selectors import live_condition

REMOTE_ACCESS_OFF = _(
    "Remote access is turned off for this account. Contact support to turn it back on."
)
GRANT_CHANGED_MEANWHILE = _(
    "Support access changed while you were on this page, so nothing was saved. "
    "Check the current access below and try again if you still want to change it."
)
NOTHING_TO_REMOVE = _("That access had already ended, so there was nothing to remove.")


class RemoteAccessError(Exception):
    """A change that cannot be made as asked; the message is meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _lock_account(account: Account) -> Account:
    return Account.objects.select_for_update().get(pk=account.pk)


def _require(actor: Actor, account: Account) -> None:
    # The views check this too; the service refuses on its own so no caller can forget.
    if actor.account.pk != account.pk or not actor.can(Capability.MANAGE_REMOTE_ACCESS):
        raise PermissionDenied(actor.denial_message(Capability.MANAGE_REMOTE_ACCESS))


def event_record(
    *,
    account: Account,
    kind: str,
    summary: str,
    actor: Actor | None = None,
    grant: RemoteAccessGrant | None = None,
    created_at: dt.datetime | None = None,
) -> AccessEvent:
    return AccessEvent.objects.create(
        account=account,
        kind=kind,
        summary=summary[:500],
        actor=actor.user if actor else None,
        actor_description=actor.description if actor else "",
        grant=grant,
        created_at=created_at or timezone.now(),
    )


def _period_phrase(grant: RemoteAccessGrant) -> str:
    if grant.duration == Duration.CUSTOM:
        last_day = (
            grant.expires_at.astimezone(grant.account.tzinfo) - dt.timedelta(seconds=1)
        ).date()
        return _("until the end of %(day)s") % {"day": formats.date_format(last_day, "DATE_FORMAT")}
    return _("for %(period)s") % {"period": Duration(grant.duration).label}


def grant_expire(*, grant: RemoteAccessGrant) -> None:
    """Mark one overdue active grant expired and log it, as the sweep would."""
    _expire_batch(now=timezone.now(), limit=1, grant_id=grant.pk)
    grant.status = RemoteAccessGrant.Status.EXPIRED
    grant.ended_at = grant.expires_at


# Claim, expire and log a batch in one statement. The sweep must keep within 3x of a bare
# UPDATE of the same rows (DESIGN §8); building model instances for each row cost 9x.
# The event carries the moment access really ended (expires_at), not when the sweep ran.
_EXPIRE_SQL = """
WITH claimed AS (
    SELECT id FROM {grants}
    WHERE status = 'active' AND expires_at <= %(now)s
      AND (%(grant_id)s::bigint IS NULL OR id = %(grant_id)s::bigint)
      AND (expires_at, id) > (%(after_expires_at)s, %(after_id)s)
    ORDER BY expires_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), expired AS (
    UPDATE {grants}
    SET status = 'expired', ended_at = expires_at
    WHERE id = ANY(ARRAY(SELECT id FROM claimed))
    RETURNING id, account_id, expires_at
)
INSERT INTO {events} (account_id, kind, summary, actor_description, grant_id, created_at)
SELECT account_id, 'expired', %(summary)s, '', id, expires_at FROM expired
RETURNING created_at, grant_id
"""

# Where a sweep starts: before every possible grant.
_SWEEP_START = (dt.datetime(1970, 1, 1, tzinfo=dt.UTC), 0)


def _expire_batch(
    *,
    now: dt.datetime,
    limit: int,
    grant_id: int | None = None,
    after: tuple[dt.datetime, int] = _SWEEP_START,
) -> list[tuple[dt.datetime, int]]:
    """Expire and log up to `limit` overdue active grants ordered after `after`.

    Returns (expires_at, id) of each. A sweep walks forward from the last pair it saw
    instead of rescanning from the start, where the index still holds the rows it has just
    expired until vacuum: rescanning made the sweep quadratic in the backlog.
    """
    if connection.vendor != "postgresql":
        return _expire_batch_portable(now=now, limit=limit, grant_id=grant_id, after=after)
    sql = _EXPIRE_SQL.format(
        grants=RemoteAccessGrant._meta.db_table, events=AccessEvent._meta.db_table
    )
    params = {
        "now": now,
        "limit": limit,
        "grant_id": grant_id,
        "summary": _("Access expired"),
        "after_expires_at": after[0],
        "after_id": after[1],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _expire_batch_portable(
    *, now: dt.datetime, limit: int, grant_id: int | None, after: tuple[dt.datetime, int]
) -> list[tuple[dt.datetime, int]]:
    """The same as the SQL above through the ORM, for SQLite (development and quick tests)."""
    due = RemoteAccessGrant.objects.select_for_update(skip_locked=True).filter(
        Q(expires_at__gt=after[0]) | Q(expires_at=after[0], pk__gt=after[1]),
        status=RemoteAccessGrant.Status.ACTIVE,
        expires_at__lte=now,
    )
    if grant_id is not None:
        due = due.filter(pk=grant_id)
    batch = list(due.order_by("expires_at", "pk").only("pk", "account_id", "expires_at")[:limit])
    RemoteAccessGrant.objects.filter(pk__in=[grant.pk for grant in batch]).update(
        status=RemoteAccessGrant.Status.EXPIRED, ended_at=F("expires_at")
    )
    AccessEvent.objects.bulk_create(
        AccessEvent(
            account_id=grant.account_id,
            kind=AccessEvent.Kind.EXPIRED,
            summary=_("Access expired"),
            grant_id=grant.pk,
            created_at=grant.expires_at,
        )
        for grant in batch
    )
    return [(grant.expires_at, grant.pk) for grant in batch]


EXPIRY_BATCH_SIZE = 10_000


def grants_expire_due(
    *, now: dt.datetime | None = None, batch_size: int = EXPIRY_BATCH_SIZE
) -> int:
    """Expire every active grant past its expiry; return how many this call expired.

    Liveness never waits for this (it compares with the clock on every request); this only
    tidies up. Batches are claimed with SKIP LOCKED, so two workers or two beat schedulers
    running it at once share the backlog and expire (and log) each grant exactly once. Memory
    is bounded by the batch size, whatever the backlog.
    """
    now = now or timezone.now()
    expired = 0
    after = _SWEEP_START
    while True:
        with transaction.atomic():
            batch = _expire_batch(now=now, limit=batch_size, after=after)
            if not batch:
                return expired
            _notify_expired([grant_id for _expires_at, grant_id in batch])
        after = max(batch)
        expired += len(batch)


EXPIRY_WARNING_AHEAD = dt.timedelta(hours=24)


def expiry_warnings_queue(*, now: dt.datetime | None = None, batch_size: int = 500) -> int:
    """Queue one "ends within a day" mail per live grant entering its last 24 hours.

    Grants that lasted a day or less to begin with get none: their owners chose it just now.
    Marking the grant and queueing the mail share a transaction, so no grant is warned twice.
    """
    from .tasks import send_expiry_warning

    now = now or timezone.now()
    queued = 0
    while True:
        with transaction.atomic():
            due = list(
                RemoteAccessGrant.objects.select_for_update(skip_locked=True)
                .filter(
                    live_condition(now=now),
                    expires_at__lte=now + EXPIRY_WARNING_AHEAD,
                    granted_at__lt=F("expires_at") - EXPIRY_WARNING_AHEAD,
                    expiry_warning_sent_at__isnull=True,
                )
                .order_by("expires_at", "pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not due:
                return queued
            RemoteAccessGrant.objects.filter(pk__in=due).update(expiry_warning_sent_at=now)
            for grant_id in due:
                transaction.on_commit(
                    lambda grant_id=grant_id: send_expiry_warning.delay(grant_id=grant_id),
                    robust=True,
                )
        queued += len(due)


def _notify_expired(grant_ids: list[int]) -> None:
    from .tasks import send_expiry_notices

    transaction.on_commit(lambda: send_expiry_notices.delay(grant_ids=grant_ids), robust=True)


EXPIRY_NOTICE_GRACE = dt.timedelta(minutes=10)


def expiry_notices_requeue_owed(*, now: dt.datetime | None = None, limit: int = 2000) -> int:
    """Queue again the "access has ended" mails that never went out (say, Redis was down).

    A notice is owed while `expiry_notice_sent_at` is empty; sending it claims it, so a notice
    queued twice is still mailed once.
    """
    now = now or timezone.now()
    owed = list(
        RemoteAccessGrant.objects.filter(
            status=RemoteAccessGrant.Status.EXPIRED,
            expiry_notice_sent_at__isnull=True,
            ended_at__lt=now - EXPIRY_NOTICE_GRACE,
            ended_at__gt=now - dt.timedelta(days=7),
        )
        .order_by("ended_at")
        .values_list("pk", flat=True)[:limit]
    )
    if owed:
        _notify_expired(owed)
    return len(owed)


def _notify(grant: RemoteAccessGrant, change: str) -> None:
    from .tasks import send_access_change_mail

    # robust: a broker outage is logged and never turns a committed change into an error page.
    transaction.on_commit(
        lambda: send_access_change_mail.delay(grant_id=grant.pk, change=change), robust=True
    )


@transaction.atomic
def access_grant(
    *,
    account: Account,
    actor: Actor,
    duration: str,
    last_day: dt.date | None = None,
    expected_current_grant_id: int | None = None,
    support_request: SupportRequest | None = None,
) -> RemoteAccessGrant:
    """Grant support access, replacing the current grant if there is one.

    `expected_current_grant_id` is the grant the person saw when they chose (None for "no
    access"). If it is no longer the active one — a double submit, or another admin acting
    meanwhile — nothing changes and they are told so.
    """
    _require(actor, account)
    account = _lock_account(account)
    if account.remote_access_disabled:
        raise RemoteAccessError(REMOTE_ACCESS_OFF)
    now = timezone.now()
    current = (
        RemoteAccessGrant.objects.select_for_update()
        .filter(account=account, status=RemoteAccessGrant.Status.ACTIVE)
        .first()
    )
    if current is not None and current.expires_at <= now:
        grant_expire(grant=current)
        current = None
    if (current.pk if current else None) != expected_current_grant_id:
        raise RemoteAccessError(GRANT_CHANGED_MEANWHILE)

    if current is not None:
        current.status = RemoteAccessGrant.Status.REPLACED
        current.ended_at = now
        current.ended_by = actor.user
        current.save(update_fields=["status", "ended_at", "ended_by"])
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
    )
    grant.full_clean(validate_constraints=False)
    grant.save()
    if current is not None:
        summary = _("%(name)s changed access: now %(period)s") % {
            "name": actor.user.full_name,
            "period": _period_phrase(grant),
        }
        event_record(
            account=account,
            kind=AccessEvent.Kind.REPLACED,
            summary=summary,
            actor=actor,
            grant=grant,
        )
        _notify(grant, "replaced")
    else:
        summary = _("%(name)s granted access %(period)s") % {
            "name": actor.user.full_name,
            "period": _period_phrase(grant),
        }
        if support_request is not None:
            summary += _(" with support request #%(number)s") % {"number": support_request.pk}
        event_record(
            account=account,
            kind=AccessEvent.Kind.GRANTED,
            summary=summary,
            actor=actor,
            grant=grant,
        )
        _notify(grant, "granted")
    return grant


@transaction.atomic
def access_remove(*, account: Account, actor: Actor, grant_id: int) -> RemoteAccessGrant:
    """End the live grant `grant_id` now. Support's next request ends their session."""
    _require(actor, account)
    account = _lock_account(account)
    grant = RemoteAccessGrant.objects.select_for_update().get(account=account, pk=grant_id)
    now = timezone.now()
    if grant.status == RemoteAccessGrant.Status.ACTIVE and grant.expires_at <= now:
        grant_expire(grant=grant)
    if grant.status != RemoteAccessGrant.Status.ACTIVE:
        raise RemoteAccessError(NOTHING_TO_REMOVE)
    grant.status = RemoteAccessGrant.Status.REVOKED
    grant.ended_at = now
    grant.ended_by = actor.user
    grant.save(update_fields=["status", "ended_at", "ended_by"])
    event_record(
        account=account,
        kind=AccessEvent.Kind.REMOVED,
        summary=_("%(name)s removed access") % {"name": actor.user.full_name},
        actor=actor,
        grant=grant,
    )
    _notify(grant, "removed")
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
) -> tuple[SupportRequest, RemoteAccessGrant | None]:
    """Create a support request and, when asked, the grant that goes with it, together."""
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
        )
    return support_request, grant
