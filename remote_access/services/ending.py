"""Ending a grant: one function for every way access stops before or at its expiry."""

import datetime as dt

from accounts.models import User

from ..models import RemoteAccessGrant
from .visits import visits_end_for_grant


def grant_end(
    *,
    grant: RemoteAccessGrant,
    status: str,
    ended_by: User | None,
    at: dt.datetime,
    visit_end_reason: str,
) -> None:
    """The one way a grant stops being active (remove, replace, turn-off, the sweep's Python
    path): the caller holds the grant's row lock and writes its own event. Open visits on
    the grant end with `visit_end_reason`."""
    grant.status = status
    grant.ended_at = at
    grant.ended_by = ended_by
    grant.save(update_fields=["status", "ended_at", "ended_by"])
    # The visits end when the grant did (an expiry: its expires_at, as the sweep SQL has it).
    visits_end_for_grant(grant=grant, reason=visit_end_reason, at=at)
