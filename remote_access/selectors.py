"""Reads for remote access. "Live" is decided in exactly one place: `live_condition`."""

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from accounts.models import Account

from .models import AccessEvent, RemoteAccessGrant, SupportRequest

HISTORY_PAGE_SIZE = 25


def live_condition(*, now: dt.datetime | None = None, prefix: str = "") -> Q:
    """Access is live iff the grant is active and has not reached its expiry (DESIGN §5.2)."""
    now = now or timezone.now()
    return Q(**{f"{prefix}status": RemoteAccessGrant.Status.ACTIVE, f"{prefix}expires_at__gt": now})


def live_grant(*, account: Account, now: dt.datetime | None = None) -> RemoteAccessGrant | None:
    return (
        RemoteAccessGrant.objects.filter(live_condition(now=now), account=account)
        .select_related("granted_by")
        .first()
    )


def access_history_page(*, account: Account, page: int) -> tuple[list[AccessEvent], bool]:
    """One page of the account's events, newest first, and whether an older page exists.

    Fetches one row more than a page instead of counting, so the cost is the same with ten
    events or a hundred thousand.
    """
    start = (page - 1) * HISTORY_PAGE_SIZE
    rows = list(
        AccessEvent.objects.filter(account=account)
        .only("kind", "summary", "created_at")
        .order_by("-created_at", "-id")[start : start + HISTORY_PAGE_SIZE + 1]
    )
    return rows[:HISTORY_PAGE_SIZE], len(rows) > HISTORY_PAGE_SIZE


def access_history_rows(*, account: Account):
    """Every event of the account as plain tuples, streamed from the database in chunks."""
    return (
        AccessEvent.objects.filter(account=account)
        .order_by("-created_at", "-id")
        .values_list("created_at", "kind", "actor_description", "summary")
        .iterator(chunk_size=2000)
    )


def support_request_for_account(*, account: Account, request_id: int) -> SupportRequest | None:
    return SupportRequest.objects.filter(account=account, pk=request_id).first()
