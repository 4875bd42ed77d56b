"""Reads for remote access. "Live" is decided in exactly one place: `live_condition`."""

import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    ExpressionWrapper,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from accounts.backends import RequestFacts
from accounts.compiled import SENTINEL_NOW, Bound, CompiledQuery, run_together
from accounts.middleware import SESSION_ACCOUNT_KEY
from accounts.models import Account, User

from .events import EVENT_RELATED_BESIDES_ACCOUNT, describe
from .models import (
    HISTORY_ITEM,
    AccessEvent,
    AccessRequest,
    RemoteAccessGrant,
    RepresentativeSession,
    SupportRequest,
    Team,
)
from .rules import ENTER_PERMISSION


def live_condition(*, now: dt.datetime | None = None, prefix: str = "") -> Q:
    """Access is live iff the grant is active and has not reached its expiry (DESIGN §5.2)."""
    now = now or timezone.now()
    return Q(**{f"{prefix}status": RemoteAccessGrant.Status.ACTIVE, f"{prefix}expires_at__gt": now})


def _live_grant(*, account_id: int, now: dt.datetime) -> QuerySet[RemoteAccessGrant]:
    return (
        RemoteAccessGrant.objects.filter(live_condition(now=now), account_id=account_id)
        .select_related("granted_by", "access_request__staff_user")
        .order_by("pk")[:1]
    )


_LIVE_GRANT = CompiledQuery(_live_grant, account_id=-730_004, now=SENTINEL_NOW)


def live_grant(*, account: Account, now: dt.datetime | None = None) -> RemoteAccessGrant | None:
    found = _LIVE_GRANT(account_id=account.pk, now=now or timezone.now())
    return found[0] if found else None


def account_events(*, account_id: int) -> QuerySet[AccessEvent]:
    """The account's events, newest first, with what rendering them reads (no N+1) but the
    account, which the caller has: `with_sentences` puts it on each event."""
    return (
        AccessEvent.objects.filter(account_id=account_id)
        .select_related(*EVENT_RELATED_BESIDES_ACCOUNT)
        .order_by("-created_at", "-id")
    )


# How many items a page of the Security tab's history shows.
HISTORY_PAGE_SIZE = 25
# The placeholder for a history cursor's instant (distinct from SENTINEL_NOW).
_SENTINEL_BEFORE = dt.datetime(1902, 3, 4, 5, 6, 7, 891, tzinfo=dt.UTC)


def history_before(position: tuple[dt.datetime, int] | None) -> Q:
    """Items older than `position`, a (created_at, id) — or every item when it is None."""
    if position is None:
        return Q()
    created_at, pk = position
    # The redundant `created_at <= …` is what the index can seek to; the OR alone is only a
    # filter, and page 1,000 would scan the 24,975 rows before it (EXPLAIN ANALYZE).
    return Q(created_at__lte=created_at) & (
        Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)
    )


def _history_items(
    *, account_id: int, position: tuple[dt.datetime, int] | None = None
) -> QuerySet[AccessEvent]:
    # One more than a page: whether there is an older page.
    return (
        account_events(account_id=account_id)
        .filter(HISTORY_ITEM)
        .filter(history_before(position))[: HISTORY_PAGE_SIZE + 1]
    )


def _newest_history_items(*, account_id: int) -> QuerySet[AccessEvent]:
    return _history_items(account_id=account_id)


def _older_history_items(
    *, account_id: int, before_at: dt.datetime, before_id: int
) -> QuerySet[AccessEvent]:
    return _history_items(account_id=account_id, position=(before_at, before_id))


# Compiled: building this four-join query cost more than reading and rendering a row of it
# (the page with its history read afresh, bench/pages.py). A cursor adds conditions, so the
# first page and the older ones are two shapes.
_NEWEST_HISTORY_ITEMS = CompiledQuery(_newest_history_items, account_id=-730_007)
_OLDER_HISTORY_ITEMS = CompiledQuery(
    _older_history_items, account_id=-730_008, before_at=_SENTINEL_BEFORE, before_id=-730_009
)


def history_items(
    *, account: Account, position: tuple[dt.datetime, int] | None
) -> list[AccessEvent]:
    """Up to HISTORY_PAGE_SIZE + 1 top-level history items (HISTORY_ITEM) older than
    `position` (from the newest when None), newest first, with what rendering them reads."""
    if position is None:
        return _NEWEST_HISTORY_ITEMS(account_id=account.pk)
    before_at, before_id = position
    return _OLDER_HISTORY_ITEMS(account_id=account.pk, before_at=before_at, before_id=before_id)


def _newest_event(*, account_id: int) -> QuerySet[AccessEvent]:
    # The account as a range of one, ordered by account and then id: the order only the
    # (account, -id) index gives. With `account_id = …` PostgreSQL drops the account from
    # the order, and a plan made once for any account (a prepared statement's generic plan)
    # could read every event id backwards looking for this account's newest: 150 ms for an
    # account with none beside one with a million (tests/test_compiled_query_plans.py).
    return (
        AccessEvent.objects.filter(account_id__gte=account_id, account_id__lte=account_id)
        .only("id")
        .order_by("account_id", "-id")[:1]
    )


_NEWEST_EVENT = CompiledQuery(_newest_event, account_id=-730_003)


def with_sentences(events, *, account: Account):
    """Attach each event's rendered sentence (and its account, which rendering may read)."""
    for event in events:
        event.account = account
        event.sentence = describe(event)
        yield event


# The export hands out its rows this many at a time (one write to the socket each)...
EXPORT_CHUNK_SIZE = 1000
# ...and reads them with one query per this many, each streamed in chunks as it runs.
EXPORT_ROWS_PER_QUERY = 10_000


def events_written(*, account: Account) -> QuerySet[AccessEvent]:
    """`account_events` in the order they were written, the last first (the export and the
    API)."""
    return account_events(account_id=account.pk).order_by("-id")


# What the export reads of an event, its actor, visit and grant: plain values, in this order.
EXPORT_VALUES = (
    "id",
    "kind",
    "created_s",
    "actor__full_name",
    "actor__email",
    "actor_role",
    "actor_team",
    "session_id",
    "session__ticket_reference",
    "session__source_ip",
    "grant_id",
    "payload_text",
    "method",
    "path",
    "result",
    "object_id",
    "object_label",
)


class _EpochSeconds(Func):
    """A time as whole seconds since 1970: an integer, which the database driver reads in C,
    where Django's time-zone-aware timestamp loader is Python and cost the export more
    than the rest of the row."""

    template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores "YYYY-MM-DD HH:MM:SS.ffffff" in UTC; strftime would round the
        # fraction, so it reads the whole seconds only ('%%%%' is one '%' in the end).
        template = "CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template)


def access_history_export_chunks(*, account: Account) -> Iterator[list[tuple]]:
    """Every event of the account as tuples of EXPORT_VALUES, the last written first, in
    lists of up to EXPORT_CHUNK_SIZE.

    No model instances — building four per row was most of the export's cost — and the
    payload as its JSON text, for the caller to parse only when it is not empty.

    Keyset queries on the (account, -id) index, each one short range scan whatever the
    depth, EXPORT_ROWS_PER_QUERY rows each, received whole (memory stays flat: one query's
    rows at a time) and handed on in chunks. No snapshot is held while a slow client
    downloads; a server-side cursor outside a transaction would be declared WITH HOLD,
    every row computed up front.
    """
    events = (
        AccessEvent.objects.filter(account=account)
        .annotate(
            created_s=_EpochSeconds("created_at"),
            payload_text=Cast("payload", TextField()),
        )
        .order_by("-id")
        .values_list(*EXPORT_VALUES)
    )
    last_id = None
    while True:
        query = events if last_id is None else events.filter(id__lt=last_id)
        sql, params = query[:EXPORT_ROWS_PER_QUERY].query.sql_with_params()
        read = 0
        for chunk in _raw_rows(sql, params):
            read += len(chunk)
            last_id = chunk[-1][0]
            yield chunk
        if read < EXPORT_ROWS_PER_QUERY:
            return


def _raw_rows(sql: str, params) -> Iterator[list[tuple]]:
    """The rows of a query as the driver gives them, EXPORT_CHUNK_SIZE at a time (the ORM
    would pass every one through its converters for nothing).

    The whole result of the query (at most EXPORT_ROWS_PER_QUERY rows) is received before the
    first chunk is yielded, so the connection is free while the caller works: the CSV looks
    up grants between chunks, and the next request's first round trip is a pipeline. A
    stream (psycopg's `Cursor.stream`) would keep the connection busy until its last row:
    a query in between would wait forever, and a stream left half read breaks the pipeline
    (tests/remote_access/test_history_export.py)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(EXPORT_CHUNK_SIZE):
            yield chunk


def grant_terms(*, ids: Iterable[int]) -> dict[int, tuple]:
    """(duration, expires_at, scope, support_request_id) of the grants `ids`, by id: the
    export reads the few grants its many rows name once each."""
    grants = RemoteAccessGrant.objects.filter(id__in=list(ids))
    return {
        pk: terms
        for pk, *terms in grants.values_list(
            "id", "duration", "expires_at", "scope", "support_request_id"
        )
    }


API_PAGE_SIZE = 100


def access_events_api_page(
    *,
    account: Account,
    after: int | None = None,
    kinds: list[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = API_PAGE_SIZE,
) -> list[AccessEvent]:
    """Up to `limit` events older (in writing order) than the event `after`, filtered."""
    events = events_written(account=account)
    if after is not None:
        events = events.filter(pk__lt=after)
    if kinds:
        events = events.filter(kind__in=kinds)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return list(with_sentences(events[:limit], account=account))


def support_request_for_account(*, account: Account, request_id: int) -> SupportRequest | None:
    return SupportRequest.objects.filter(account=account, pk=request_id).first()


# --- support staff -----------------------------------------------------------------------

STAFF_TEAM_GROUPS = {
    "Support": Team.SUPPORT,
    "Onboarding": Team.ONBOARDING,
    "Success": Team.SUCCESS,
}


def staff_team(*, user: User) -> str:
    """The staff member's team, from their Django group; Other when they have none."""
    names = set(user.groups.values_list("name", flat=True))
    for group_name, team in STAFF_TEAM_GROUPS.items():
        if group_name in names:
            return team
    return Team.OTHER


def open_visit_for(*, user: User) -> RepresentativeSession | None:
    return (
        RepresentativeSession.objects.filter(staff_user=user, ended_at__isnull=True)
        .select_related("account")
        .first()
    )


@functools.cache
def enter_permission_id() -> int | None:
    """The id of remote_access.enter_account, read once per process. A migrate can recreate
    the row under a new id, so `receivers` forgets it after each one; an id gone stale
    anyway would refuse entry, never grant it."""
    app_label, codename = ENTER_PERMISSION
    permissions = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return permissions.values_list("pk", flat=True).first()


def _holds_permission(permission_id: int) -> Exists:
    """Whether the session's staff user holds the permission, directly or through a group.

    By the permission's id: looked up by name, through auth_permission and
    django_content_type, it made PostgreSQL plan twelve relations for the visit check
    (about 2 ms of planning to 0.2 ms of running); by id, it is two index probes."""
    staff = OuterRef("staff_user_id")
    user_groups = User.groups.through.objects.filter(user_id=OuterRef(staff))
    return Exists(
        User.user_permissions.through.objects.filter(user_id=staff, permission_id=permission_id)
    ) | Exists(
        Group.permissions.through.objects.filter(
            permission_id=permission_id, group_id__in=user_groups.values("group_id")
        )
    )


def _visit_of(
    *, session_id: int, staff_user_id: int, now: dt.datetime, permission_id: int
) -> QuerySet[RepresentativeSession]:
    return (
        RepresentativeSession.objects.filter(pk=session_id, staff_user_id=staff_user_id)
        .select_related("account", "grant", "grant__granted_by")
        .order_by()  # one row at most: no sort
        .annotate(
            grant_is_live=ExpressionWrapper(
                live_condition(now=now, prefix="grant__"), output_field=BooleanField()
            ),
            staff_may_enter=ExpressionWrapper(
                _holds_permission(permission_id), output_field=BooleanField()
            ),
        )
    )


# Every request of a visit asks: compiled once per process (accounts/compiled.py).
_VISIT_OF = CompiledQuery(
    _visit_of,
    session_id=-730_101,
    staff_user_id=-730_102,
    now=SENTINEL_NOW,
    permission_id=-730_103,
)


def visit_state_read(*, session_id: int, staff_user_id: int, now: dt.datetime) -> Bound:
    """The visit check, bound, to run with the signed-in user (accounts.backends)."""
    return _VISIT_OF.bind(
        session_id=session_id,
        staff_user_id=staff_user_id,
        now=now,
        permission_id=enter_permission_id(),
    )


def visit_state(
    *,
    session_id: int,
    user: User,
    now: dt.datetime | None = None,
    read: list[RepresentativeSession] | None = None,
) -> RepresentativeSession | None:
    """Everything a representative's request must know, in one query — or none, when it
    was `read` with the signed-in user (`visit_state_read`).

    The session comes with its account, grant and granter, and with `grant_is_live` (the one
    liveness rule) and `staff_may_enter` computed by the database.
    """
    if read is None:
        read = run_together(
            visit_state_read(
                session_id=session_id, staff_user_id=user.pk, now=now or timezone.now()
            )
        )[0]
    return read[0] if read else None


def _live_grant_of(account_ref: str) -> QuerySet[RemoteAccessGrant]:
    return RemoteAccessGrant.objects.filter(live_condition(), account=OuterRef(account_ref))


def live_grant_exists(*, account_ref: str = "pk") -> Exists:
    """For annotating accounts (admin lists): does the account have a live grant now?"""
    return Exists(_live_grant_of(account_ref))


def live_grant_column(field: str, *, account_ref: str = "pk") -> Subquery:
    """For annotating accounts: one field of the live grant (None without one)."""
    return Subquery(_live_grant_of(account_ref).values(field)[:1])


# --- support's requests for access ----------------------------------------------------------


def pending_condition(*, now: dt.datetime | None = None) -> Q:
    """A request waits for the merchant iff it is pending and has not reached its expiry."""
    return Q(status=AccessRequest.Status.PENDING, expires_at__gt=now or timezone.now())


def _pending(*, account_id: int, now: dt.datetime) -> QuerySet[AccessRequest]:
    return (
        AccessRequest.objects.filter(pending_condition(now=now), account_id=account_id)
        .select_related("staff_user", "account")
        .order_by("created_at", "id")
    )


_PENDING = CompiledQuery(_pending, account_id=-730_005, now=SENTINEL_NOW)


def access_request_latest(*, account: Account, staff_user: User) -> AccessRequest | None:
    """The staff user's most recent request for access to the account (admin page)."""
    return (
        AccessRequest.objects.filter(account=account, staff_user=staff_user)
        .select_related("decided_by", "grant")
        .first()
    )


def _visits_going_on(*, now: dt.datetime, **where) -> QuerySet[RepresentativeSession]:
    """Open visits on a live grant, with their staff member: the live notice's."""
    return (
        RepresentativeSession.objects.filter(
            live_condition(now=now, prefix="grant__"), ended_at__isnull=True, **where
        )
        .select_related("staff_user")
        .order_by("started_at", "id")
    )


def _visits_inside(*, account_id: int, now: dt.datetime) -> QuerySet[RepresentativeSession]:
    return _visits_going_on(now=now, account_id=account_id)


# Every merchant page asks (the live notice): compiled once per process (accounts/compiled.py).
_VISITS_INSIDE = CompiledQuery(_visits_inside, account_id=-730_002, now=SENTINEL_NOW)


def _visits_inside_accounts_of(
    *, user_id: int, now: dt.datetime
) -> QuerySet[RepresentativeSession]:
    """The same, in every account the user is a member of: read with the signed-in user, in
    the same round trip (accounts.backends.read_with_user; registered in apps.py)."""
    return _visits_going_on(now=now, account__memberships__user_id=user_id)


VISITS_INSIDE_ACCOUNTS_OF = CompiledQuery(
    _visits_inside_accounts_of, user_id=-730_006, now=SENTINEL_NOW
)
# The name its objects have in what was read with the user.
VISITS_INSIDE_READ = "visits_inside"


def visits_inside(
    *, account: Account, read_with_user: dict | None = None
) -> list[RepresentativeSession]:
    """Support visits going on in the account now (open, on a live grant): the live notice.
    Taken from what was read with the signed-in user when there is that, else one query."""
    read = (read_with_user or {}).get(VISITS_INSIDE_READ)
    if read is not None:
        return [visit for visit in read if visit.account_id == account.pk]
    return _VISITS_INSIDE(account_id=account.pk, now=timezone.now())


@dataclass(frozen=True)
class SecurityTabReads:
    grant: RemoteAccessGrant | None
    pending: list[AccessRequest]
    newest_event_id: int  # 0 without one; it changes with every event


def _security_tab_bound(*, account_id: int, now: dt.datetime) -> dict[str, Bound]:
    """The tab's three reads, named for the account they read."""
    return {
        f"security-tab:{account_id}:grant": _LIVE_GRANT.bind(account_id=account_id, now=now),
        f"security-tab:{account_id}:pending": _PENDING.bind(account_id=account_id, now=now),
        f"security-tab:{account_id}:newest": _NEWEST_EVENT.bind(account_id=account_id),
    }


@functools.cache
def _security_path() -> str:
    return reverse("remote_access:security")


def security_tab_read_for_request(facts: RequestFacts) -> dict[str, Bound]:
    """The Security tab's reads, to run with the signed-in user (registered in apps.py): for
    the account the session has chosen; the tab uses them if that is the account it shows."""
    account_id = facts.session.get(SESSION_ACCOUNT_KEY)
    if facts.path != _security_path() or account_id is None:
        return {}
    return _security_tab_bound(account_id=account_id, now=facts.now)


def security_tab_reads(*, account: Account, read_with_user: dict | None = None) -> SecurityTabReads:
    """What the Security tab reads besides its history page — the live grant, the pending
    requests for access, the newest event id (the cached history's key) — in one round
    trip, or none when they were read with the signed-in user for this account."""
    bound = _security_tab_bound(account_id=account.pk, now=timezone.now())
    read = read_with_user or {}
    if all(name in read for name in bound):
        grants, pending, newest = (read[name] for name in bound)
    else:
        grants, pending, newest = run_together(*bound.values())
    return SecurityTabReads(
        grant=grants[0] if grants else None,
        pending=pending,
        newest_event_id=newest[0].pk if newest else 0,
    )
