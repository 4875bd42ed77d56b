"""Tidying up after the clock: expiring overdue grants, and the mails around expiry.

Whether access is live never waits for any of this: it is decided against the clock on
every request (selectors.live_condition).
"""

import datetime as dt
import json

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from outbox.services import (
    outbox_enqueue_rendered_later,
    outbox_kick_on_commit,
    outbox_rendered_later_sql,
)

from ..mail import mail_kind
from ..models import AccessEvent, RemoteAccessGrant, RepresentativeSession
from ..selectors import live_condition
from .common import event_record
from .ending import grant_end

EndReason = RepresentativeSession.EndReason


def grant_expire_if_overdue(*, grant: RemoteAccessGrant, now: dt.datetime) -> bool:
    """Expire and log a grant (whose row the caller has locked) that the sweep has not reached
    yet; the same statement as the sweep decides. Returns whether it did."""
    count, _last = _expire_batch(now=now, limit=1, grant_id=grant.pk)
    if not count:
        return False
    grant.status = RemoteAccessGrant.Status.EXPIRED
    grant.ended_at = grant.expires_at
    return True


# Claim, expire and log a batch in one statement: grants, visits, events and the "access has
# ended" mails, with nothing but a count and the batch's last key coming back to Python.
# The sweep must keep within 2x of a bare UPDATE of the same rows (bench/expire.py); building
# model instances for each row cost 9x, and a round trip of the ids through Python for the
# mails, with a statement of its own, about a third of the budget.
# The event carries the moment access really ended (expires_at), not when the sweep ran.
# The claim is the one query that locks: the UPDATE joins on its ids, so a row another sweep
# holds (SKIP LOCKED) or has already expired (the recheck on a row updated since the
# statement's snapshot drops it) is neither updated nor logged here.
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
), ended_sessions AS (
    UPDATE {sessions} AS visit
    SET ended_at = expired.expires_at, end_reason = 'expired'
    FROM expired
    WHERE visit.grant_id = expired.id AND visit.ended_at IS NULL
    RETURNING visit.id, visit.account_id, visit.grant_id, visit.staff_user_id, visit.team,
              visit.ended_at
), session_events AS (
    INSERT INTO {events} ({columns}, actor_id, actor_team, session_id)
    SELECT account_id, 'session_ended', grant_id, ended_at, %(session_payload)s::jsonb, {blank},
           staff_user_id, team, id
    FROM ended_sessions
), expiry_events AS (
    INSERT INTO {events} ({columns}, actor_team)
    SELECT account_id, 'expired', id, expires_at, '{{}}'::jsonb, {blank}, '' FROM expired
), notices AS (
    {notices}
), last_expired AS (
    SELECT expires_at, id FROM expired ORDER BY expires_at DESC, id DESC LIMIT 1
)
SELECT (SELECT count(*) FROM expired), expires_at, id FROM last_expired
"""

# The "access has ended" notice of each expired grant, rendered at delivery.
_NOTICE_PAYLOADS = "(SELECT jsonb_build_object('grant_id', id) AS payload FROM expired) AS ended"


# The facts every event row has; the ones an expiry does not have are blank, exactly as
# `event_record` leaves them (tests/remote_access/test_event_facts.py compares the two).
_EVENT_COLUMNS = (
    "account_id, kind, grant_id, created_at, payload, actor_role, object_type, object_id, "
    "object_label, method, path"
)
_BLANK_FACTS = "'', '', '', '', '', ''"


# Where a sweep starts: before every possible grant.
_SWEEP_START = (dt.datetime(1970, 1, 1, tzinfo=dt.UTC), 0)

# How many grants a batch expired, and the (expires_at, id) of its last (None if none).
Batch = tuple[int, tuple[dt.datetime, int] | None]


def _expire_batch(
    *,
    now: dt.datetime,
    limit: int,
    grant_id: int | None = None,
    after: tuple[dt.datetime, int] = _SWEEP_START,
) -> Batch:
    """Expire, log and announce up to `limit` overdue active grants ordered after `after`.

    A sweep walks forward from the last key it saw instead of rescanning from the start,
    where the index still holds the rows it has just expired until vacuum: rescanning made
    the sweep quadratic in the backlog.
    """
    if connection.vendor != "postgresql":
        return _expire_batch_portable(now=now, limit=limit, grant_id=grant_id, after=after)
    return _expire_batch_sql(now=now, limit=limit, grant_id=grant_id, after=after)


def _expire_batch_sql(
    *, now: dt.datetime, limit: int, grant_id: int | None, after: tuple[dt.datetime, int]
) -> Batch:
    notices, notice_params = outbox_rendered_later_sql(
        source=_NOTICE_PAYLOADS, kind=mail_kind("expired")
    )
    sql = _EXPIRE_SQL.format(
        grants=RemoteAccessGrant._meta.db_table,
        sessions=RepresentativeSession._meta.db_table,
        events=AccessEvent._meta.db_table,
        columns=_EVENT_COLUMNS,
        blank=_BLANK_FACTS,
        notices=notices.strip(),
    )
    params = {
        "now": now,
        "limit": limit,
        "grant_id": grant_id,
        "session_payload": json.dumps({"reason": EndReason.EXPIRED}),
        "after_expires_at": after[0],
        "after_id": after[1],
        **notice_params,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return 0, None
    # The notices are rows of this transaction: ask for their delivery once it commits.
    outbox_kick_on_commit()
    count, last_expires_at, last_id = row
    return count, (last_expires_at, last_id)


def _expire_batch_portable(
    *, now: dt.datetime, limit: int, grant_id: int | None, after: tuple[dt.datetime, int]
) -> Batch:
    """The same as the SQL above through the ORM, for SQLite (development and quick tests)."""
    due = RemoteAccessGrant.objects.select_for_update(skip_locked=True).filter(
        Q(expires_at__gt=after[0]) | Q(expires_at=after[0], pk__gt=after[1]),
        status=RemoteAccessGrant.Status.ACTIVE,
        expires_at__lte=now,
    )
    if grant_id is not None:
        due = due.filter(pk=grant_id)
    batch = list(due.order_by("expires_at", "pk")[:limit])
    for grant in batch:
        grant_end(
            grant=grant,
            status=RemoteAccessGrant.Status.EXPIRED,
            ended_by=None,
            at=grant.expires_at,
            visit_end_reason=EndReason.EXPIRED,
        )
        event_record(
            account=grant.account,
            kind=AccessEvent.Kind.EXPIRED,
            grant=grant,
            created_at=grant.expires_at,
        )
    outbox_enqueue_rendered_later(
        kind=mail_kind("expired"), payloads=[{"grant_id": grant.pk} for grant in batch]
    )
    if not batch:
        return 0, None
    return len(batch), (batch[-1].expires_at, batch[-1].pk)


# Large, because each batch costs a round trip, a plan and a commit, and nothing of its rows
# reaches Python; small enough that a batch's locks last about a second.
EXPIRY_BATCH_SIZE = 50_000


def grants_expire_due(
    *, now: dt.datetime | None = None, batch_size: int = EXPIRY_BATCH_SIZE
) -> int:
    """Expire every active grant past its expiry; return how many this call expired.

    Liveness never waits for this (it compares with the clock on every request); this only
    tidies up. Batches are claimed with SKIP LOCKED, so two workers or two beat schedulers
    running it at once share the backlog and expire (and log) each grant exactly once. Each
    batch is one statement whose rows stay in the database: Python holds a count and a key,
    whatever the batch size or the backlog.
    """
    now = now or timezone.now()
    expired = 0
    after = _SWEEP_START
    while True:
        with transaction.atomic():
            count, last = _expire_batch(now=now, limit=batch_size, after=after)
        if last is None:
            return expired
        after = last
        expired += count


EXPIRY_WARNING_AHEAD = dt.timedelta(hours=24)


def expiry_warnings_queue(*, now: dt.datetime | None = None, batch_size: int = 500) -> int:
    """Write one "ends within a day" mail per live grant entering its last 24 hours.

    Grants that lasted a day or less to begin with get none: their owners chose it just now.
    Marking the grant and writing the mail share a transaction, so no grant is warned twice.
    """
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
            outbox_enqueue_rendered_later(
                kind=mail_kind("expiring"), payloads=[{"grant_id": grant_id} for grant_id in due]
            )
        queued += len(due)
