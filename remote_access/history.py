"""The access history as people and machines read it: visit groups for the Security tab,
one record shape for the CSV export and the API."""

import base64
import datetime as dt
import json
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from django.utils.functional import cached_property

from accounts.csv_export import csv_fields, csv_line
from accounts.models import Account

from .events import EventFacts, GrantTerms, one_language, sentence, ticket_label, visitor
from .models import AccessEvent, RepresentativeSession
from .selectors import (
    EXPORT_VALUES,
    HISTORY_PAGE_SIZE,
    access_history_export_chunks,
    account_events,
    grant_terms,
    history_items,
    with_sentences,
)

CSV_COLUMNS = [
    "time",
    "time_zone",
    "event",
    "summary",
    "by",
    "role",
    "team",
    "visit_id",
    "ticket",
    "ip",
    "method",
    "path",
    "result",
]


def event_record_fields(event: AccessEvent, *, account: Account) -> dict:
    """One event's facts and sentence, as plain values (times in the account's zone)."""
    visit = event.session
    actor = event.actor
    return {
        "id": event.pk,
        "time": event.created_at.astimezone(account.tzinfo).isoformat(timespec="seconds"),
        "time_zone": account.timezone,
        "event": event.kind,
        "summary": event.sentence,
        "by": f"{actor.full_name} <{actor.email}>" if actor else "",
        "role": event.actor_role,
        "team": event.actor_team,
        "visit_id": visit.pk if visit else None,
        "ticket": visit.ticket_reference if visit else "",
        "ip": visit.source_ip if visit else None,
        "method": event.method,
        "path": event.path,
        "result": event.result,
        "object": {"type": event.object_type, "id": event.object_id, "label": event.object_label},
        "payload": event.payload,
    }


GRANT_ID = EXPORT_VALUES.index("grant_id")


def _csv_line(
    values: tuple,
    *,
    grants: dict[int, GrantTerms | None],
    zone: zoneinfo.ZoneInfo,
    zone_name: str,
    local_time: "LocalTimes",
) -> str:
    """One exported event from its plain values (selectors.EXPORT_VALUES): the cells of
    `event_record_fields`, the sentence rendered by the pages' wording (events.sentence).

    What people typed or sent — names and emails, tickets, labels and reasons in the
    sentence, a request's method and path — goes through csv_fields (one line, formulas
    defused, quoted); the other cells the site wrote from its own choices (time, zone,
    kind, role, team, ids, IP address, status): no control character, comma, quote nor
    formula can be in them.
    """
    (
        _pk,
        kind,
        created_s,
        full_name,
        email,
        role,
        team,
        visit_id,
        ticket,
        ip,
        grant_id,
        payload_text,
        method,
        path,
        result,
        object_id,
        object_label,
    ) = values
    summary = sentence(
        EventFacts(
            kind,
            full_name,
            email,
            team,
            ticket,
            None if grant_id is None else grants[grant_id],
            zone,
            {} if payload_text == "{}" else json.loads(payload_text),
            method,
            path,
            result,
            object_id,
            object_label,
        )
    )
    by = "" if email is None else f"{full_name} <{email}>"
    summary, by, ticket, method, path = csv_fields(summary, by, ticket or "", method, path)
    # A line as accounts.csv_export.csv_line joins it, written out: the cells are csv_fields
    # or the site's own, with no comma, quote nor line break to quote.
    return (
        f"{local_time(created_s)},{zone_name},{kind},{summary},{by},{role},{team},"
        f"{'' if visit_id is None else visit_id},{ticket},{ip or ''},{method},{path},"
        f"{'' if result is None else result}\r\n"
    )


class LocalTimes:
    """ISO 8601 times to the second in one zone, from seconds since 1970, as
    `datetime.isoformat` writes them: most rows of an export fall in the minute of the row
    before, whose text is remembered (making a datetime per row was a tenth of the cost)."""

    def __init__(self, zone: zoneinfo.ZoneInfo) -> None:
        self.zone = zone
        self.minute: int | None = None
        self.prefix: str | None = None
        self.suffix = ""

    def __call__(self, seconds: int) -> str:
        minute, second = divmod(seconds, 60)
        if minute != self.minute:
            self._remember(minute)
        if self.prefix is None:
            return dt.datetime.fromtimestamp(seconds, self.zone).isoformat()
        return f"{self.prefix}{second:02d}{self.suffix}"

    def _remember(self, minute: int) -> None:
        first = dt.datetime.fromtimestamp(minute * 60, self.zone)
        last = dt.datetime.fromtimestamp(minute * 60 + 59, self.zone)
        self.minute = minute
        if first.second == 0 and first.utcoffset() == last.utcoffset():
            text = first.isoformat()  # 2026-11-29T05:11:00-05:00
            self.prefix, self.suffix = text[:17], text[19:]
        else:  # an offset of odd seconds (old local mean times), or one changing mid-minute
            self.prefix = None


def access_history_csv(*, account: Account) -> Iterator[str]:
    """The account's access history as CSV text: the header, then every event, the last
    written first, in parts of EXPORT_CHUNK_SIZE rows (one write to the socket each)."""
    yield csv_line(CSV_COLUMNS)
    zone, zone_name = account.tzinfo, account.timezone
    local_time = LocalTimes(zone)
    grants: dict[int, GrantTerms | None] = {}
    for chunk in access_history_export_chunks(account=account):
        named = {values[GRANT_ID] for values in chunk} - grants.keys() - {None}
        if named:
            terms = grant_terms(ids=named)
            # A grant that is not there reads as none, as on the page (no constraint holds
            # the reference; grants are never deleted).
            grants.update((pk, GrantTerms(*terms[pk]) if pk in terms else None) for pk in named)
        with one_language():
            lines = [
                _csv_line(
                    values, grants=grants, zone=zone, zone_name=zone_name, local_time=local_time
                )
                for values in chunk
            ]
        yield "".join(lines)


# --- the Security tab: the history read as visits -----------------------------------------

Kind = AccessEvent.Kind


@dataclass
class VisitGroup:
    """One support visit and everything that happened in it, for a `<details>` row."""

    is_visit: ClassVar[bool] = True

    start: AccessEvent
    events: list[AccessEvent] = field(default_factory=list)

    @property
    def visit(self) -> RepresentativeSession:
        return self.start.session

    @property
    def created_at(self) -> dt.datetime:
        return self.start.created_at

    @property
    def who(self) -> str:
        return visitor(self.start)

    @property
    def ticket(self) -> str:
        return ticket_label(self.visit.ticket_reference)

    def _of(self, *kinds: str) -> list[AccessEvent]:
        return [event for event in self.events if event.kind in kinds]

    @property
    def pages(self) -> list[AccessEvent]:
        return self._of(Kind.PAGE_VIEWED)

    @property
    def changes(self) -> list[AccessEvent]:
        return [e for e in self._of(Kind.ACTION_PERFORMED) if (e.result or 0) < 400]

    @property
    def refusals(self) -> list[AccessEvent]:
        failed = [e for e in self._of(Kind.ACTION_PERFORMED) if (e.result or 0) >= 400]
        return self._of(Kind.ACTION_BLOCKED) + failed

    @property
    def end(self) -> AccessEvent | None:
        ended = self._of(Kind.SESSION_ENDED)
        return ended[-1] if ended else None


def _cursor_encode(event: AccessEvent) -> str:
    raw = f"{event.created_at.isoformat()}|{event.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str | None) -> tuple[dt.datetime, int] | None:
    """The (created_at, id) a `?before=` cursor names; None for garbage (page one)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        created_at = dt.datetime.fromisoformat(moment)
        if created_at.tzinfo is None:
            return None
        return created_at, int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


# How long a rendered history page is kept. An event's id is taken when it is written, not
# when it commits, so a transaction that commits after a newer event did leaves a page kept
# under the newer id without its event. Every transaction that writes an event is short (a
# request, a batch of the expiry sweep: seconds; tasks stop after two minutes), so the page
# read after this long has it (tests/remote_access/test_history_cache.py). Nothing in the
# database enforces that; docs/api.md says so too.
HISTORY_KEPT_SECONDS = 300


class HistoryPage:
    """A page of the Security tab's history, read only if it is rendered: the tab keeps the
    rendered page (`{% cache %}` in security.html) under `version`, the account's newest event
    id, which every new event changes — events are only ever added, the ones written late
    with an earlier time included — for `kept_for` seconds at most (HISTORY_KEPT_SECONDS)."""

    kept_for = HISTORY_KEPT_SECONDS

    def __init__(self, *, account: Account, before: str | None, version: int) -> None:
        self.account = account
        self.before = before
        self.version = version  # read with the tab's other reads (security_tab_reads)

    @cached_property
    def _page(self) -> tuple[list, str | None]:
        return access_history_visits_page(account=self.account, before=self.before)

    @property
    def items(self) -> list:
        return self._page[0]

    @property
    def older(self) -> str | None:
        return self._page[1]


def access_history_visits_page(
    *, account: Account, before: str | None = None
) -> tuple[list, str | None]:
    """One page of the history as items — top-level events (grants, removals, expiries…)
    and visit groups — newest first, and the cursor of the next older page (or None).

    Keyset pagination on (created_at, id): page 1,000 costs what page one costs. Two queries
    whatever the history holds: the page's items, then every event of its visits.
    """
    position = cursor_decode(before)
    items = list(with_sentences(history_items(account=account, position=position), account=account))
    older = _cursor_encode(items[HISTORY_PAGE_SIZE - 1]) if len(items) > HISTORY_PAGE_SIZE else None
    items = items[:HISTORY_PAGE_SIZE]
    groups = {e.session_id: VisitGroup(start=e) for e in items if e.kind == Kind.SESSION_STARTED}
    if groups:
        inside = (
            account_events(account_id=account.pk)
            .filter(session_id__in=list(groups))
            .exclude(kind=Kind.SESSION_STARTED)
            .order_by("created_at", "id")
        )
        for event in with_sentences(inside, account=account):
            groups[event.session_id].events.append(event)
    return [groups.get(e.session_id, e) if e.session_id in groups else e for e in items], older
