"""Writes and delivery of the outbox: import services from here."""

from .delivery import (
    Delivery,
    outbox_deliver_batch,
    outbox_drain,
    outbox_release_stale,
    retry_delay,
)
from .writing import (
    outbox_enqueue,
    outbox_enqueue_rendered_later,
    outbox_kick_on_commit,
    outbox_rendered_later_sql,
    outbox_requeue,
)

__all__ = [
    "Delivery",
    "outbox_deliver_batch",
    "outbox_drain",
    "outbox_enqueue",
    "outbox_enqueue_rendered_later",
    "outbox_kick_on_commit",
    "outbox_rendered_later_sql",
    "outbox_release_stale",
    "outbox_requeue",
    "retry_delay",
]
