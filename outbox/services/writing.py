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
SELECT %(kind)s, payload, false, '[]'::jsonb, '', '', '', false, 'pending',
       %(priority)s, 0, %(now)s, '', '', %(now)s
FROM jsonb_array_elements(%(payloads)s::jsonb) AS payload
"""


def outbox_enqueue_rendered_later(
    *, kind: str, payloads: list[dict], priority: int = Priority.BULK
) -> int:
    """Write one row per payload, in one statement, for the kind's registered renderer to
    turn into mail at delivery. For bulk writers that must stay fast (the expiry sweep)."""
    if not payloads:
        return 0
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _DEFERRED_INSERT_SQL.format(table=OutboxMessage._meta.db_table),
                {"kind": kind, "priority": priority, "now": now, "payloads": json.dumps(payloads)},
            )
    else:
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
