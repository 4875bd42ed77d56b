"""Writing mail to the outbox, in the caller's transaction.

A mail is a row written with the change it reports, so it exists exactly when that change
does: a rollback removes it. After commit a worker is asked to deliver it (delivery.py).
"""

import json

from django.db import connection, transaction
from django.utils import timezone

from ..models import OutboxMessage
from ..subjects import subject_line

Priority = OutboxMessage.Priority
Status = OutboxMessage.Status


def _kick() -> None:
    from ..tasks import outbox_deliver

    outbox_deliver.delay()


def _kick_on_commit() -> None:
    """Ask a worker to deliver soon after commit: once per transaction, however many rows.

    `robust`: a broker outage is logged, never turns the committed change into an error;
    beat's drain every minute sends the row anyway.
    """
    db = transaction.get_connection()
    # Once per (sub)transaction: a kick registered in an enclosing block that never commits
    # by itself (a test's transaction) must not swallow this one.
    here = set(db.savepoint_ids)
    if db.in_atomic_block and any(
        func is _kick and sids == here for sids, func, _robust in db.run_on_commit
    ):
        return
    transaction.on_commit(_kick, robust=True)


def outbox_enqueue(
    *,
    kind: str,
    to: list[str],
    subject: str,
    text_body: str,
    html_body: str = "",
    confidential: bool = False,
    priority: int = Priority.NOW,
) -> OutboxMessage | None:
    """Write one mail in the caller's transaction (a rollback removes it); None if `to` is
    empty. `confidential`: the body holds a one-time link, erased once sent."""
    recipients = [address for address in to if address]
    if not recipients:
        return None
    message = OutboxMessage.objects.create(
        kind=kind,
        recipients=recipients,
        subject=subject_line(subject),
        text_body=text_body,
        html_body=html_body,
        confidential=confidential,
        priority=priority,
    )
    _kick_on_commit()
    return message


_DEFERRED_INSERT_SQL = """
INSERT INTO {table}
    (kind, payload, rendered, recipients, subject, text_body, html_body, confidential, status,
     priority, attempts, next_attempt_at, last_error, claimed_by, created_at)
SELECT %(outbox_kind)s, payload, false, '[]'::jsonb, '', '', '', false, 'pending',
       %(outbox_priority)s, 0, %(outbox_now)s, '', '', %(outbox_now)s
FROM {source}
"""


def outbox_rendered_later_sql(
    *, source: str, kind: str, priority: int = Priority.BULK
) -> tuple[str, dict]:
    """The statement `outbox_enqueue_rendered_later` runs, for a bulk writer that must write
    its mail in its own statement (a data-modifying CTE) rather than hand Python a list:
    one row per row of `source`, a FROM item with a jsonb column `payload`.

    Returns the SQL and its named parameters (all prefixed `outbox_`). The caller runs them
    in its transaction and then calls `outbox_kick_on_commit()` if it wrote any row.
    """
    sql = _DEFERRED_INSERT_SQL.format(table=OutboxMessage._meta.db_table, source=source)
    return sql, {"outbox_kind": kind, "outbox_priority": priority, "outbox_now": timezone.now()}


def outbox_kick_on_commit() -> None:
    """Ask for delivery after commit, for rows written by `outbox_rendered_later_sql`."""
    _kick_on_commit()


def outbox_enqueue_rendered_later(
    *, kind: str, payloads: list[dict], priority: int = Priority.BULK
) -> int:
    """Write one row per payload, in one statement, for the kind's registered renderer to
    turn into mail at delivery. For bulk writers that must stay fast (the expiry sweep)."""
    if not payloads:
        return 0
    if connection.vendor == "postgresql":
        sql, params = outbox_rendered_later_sql(
            source="jsonb_array_elements(%(payloads)s::jsonb) AS payload",
            kind=kind,
            priority=priority,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {**params, "payloads": json.dumps(payloads)})
    else:
        now = timezone.now()
        OutboxMessage.objects.bulk_create(
            OutboxMessage(
                kind=kind,
                payload=payload,
                rendered=False,
                priority=priority,
                next_attempt_at=now,
                created_at=now,
            )
            for payload in payloads
        )
    _kick_on_commit()
    return len(payloads)


def outbox_requeue(*, message_ids: list[int]) -> int:
    """Send failed mail again from scratch (an operator's action once SMTP is back)."""
    return OutboxMessage.objects.filter(pk__in=message_ids, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
