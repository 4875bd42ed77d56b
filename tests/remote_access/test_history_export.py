"""The CSV export says what the page and the API say, for every kind of event.

The export renders its rows from plain values (remote_access.history) for speed; the Security
tab and the API render them from model instances. These tests hold the two to one wording
and one set of cells, with the awkward values people type included.
"""

import csv
import datetime as dt
import io
import zoneinfo

import pytest
from django.urls import reverse

from accounts.csv_export import csv_cell
from remote_access.events import EVENT_RELATED, describe
from remote_access.history import CSV_COLUMNS, LocalTimes, event_record_fields
from remote_access.models import AccessEvent, Duration, RemoteAccessGrant, Scope
from remote_access.selectors import with_sentences
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.remote_access.factories import (
    AccessEventFactory,
    GrantFactory,
    RepresentativeSessionFactory,
    SupportRequestFactory,
)

Kind = AccessEvent.Kind
# Winter and summer in the account's zone (New York): -05:00 and -04:00.
WINTER = dt.datetime(2026, 1, 15, 17, 30, 59, 999_999, tzinfo=dt.UTC)
SUMMER = dt.datetime(2026, 7, 15, 3, 4, 5, 600_000, tzinfo=dt.UTC)


def every_kind(account, owner):
    """One event or more of each kind, with what each kind's sentence reads, written with
    the values a person could type: commas, quotes, line breaks, formulas, spaces."""
    staff = StaffUserFactory(full_name=' Sam "Sammy" Support, Jr', email="sam@latchkey.test")
    nameless = UserFactory(full_name="", email="=nameless@example.test")
    support_request = SupportRequestFactory(account=account, requested_by=owner)
    week = GrantFactory(account=account, granted_by=owner, scope=Scope.VIEW_ONLY)
    ended = RemoteAccessGrant.Status.REPLACED
    custom = GrantFactory(
        account=account,
        granted_by=owner,
        status=ended,
        duration=Duration.CUSTOM,
        expires_at=dt.datetime(2026, 12, 25, 5, 0, tzinfo=dt.UTC),
    )
    until_resolved = GrantFactory(
        account=account,
        granted_by=owner,
        status=ended,
        duration=Duration.UNTIL_RESOLVED,
        support_request=support_request,
    )
    visit = RepresentativeSessionFactory(
        grant=week, staff_user=staff, ticket_reference="=1+1", source_ip="203.0.113.7"
    )
    in_visit = {"actor": staff, "actor_team": "support", "session": visit, "grant": week}
    events = [
        (Kind.ACCESS_ASKED, {"actor": nameless, "actor_role": "manager"}),
        (
            Kind.ACCESS_REQUESTED,
            {
                "actor": staff,
                "actor_team": "support",
                "object_label": "4411",
                "payload": {
                    "duration": Duration.CUSTOM,
                    "last_day": "2026-12-24",
                    "scope": Scope.VIEW_ONLY,
                    "reason": 'VIP, "gold"\r\nsegment\tshows 0',
                },
            },
        ),
        (
            Kind.ACCESS_REQUESTED,
            {"object_label": "T-9", "payload": {"duration": "7d", "reason": "-1"}},
        ),
        (
            Kind.ACCESS_APPROVED,
            {
                "actor": owner,
                "grant": week,
                "object_label": "4411",
                "payload": {"requested_by": "Sam"},
            },
        ),
        (
            Kind.ACCESS_DENIED,
            {
                "actor": owner,
                "object_label": "4411",
                "payload": {"requested_by": "Sam", "deny_reason": "@not now"},
            },
        ),
        (Kind.ACCESS_DENIED, {"actor": owner, "payload": {"requested_by": "Sam"}}),
        (
            Kind.REQUEST_RESOLVED,
            {"actor": owner, "object_id": str(support_request.pk), "payload": {"access_ended": 1}},
        ),
        (Kind.REQUEST_REOPENED, {"actor": owner, "object_id": str(support_request.pk)}),
        (Kind.GRANTED, {"actor": owner, "grant": week, "actor_role": "owner"}),
        (Kind.GRANTED, {"actor": owner, "grant": custom, "payload": {"support_request": 7}}),
        (
            Kind.GRANTED,
            {"actor": owner, "grant": until_resolved, "payload": {"support_request": 7}},
        ),
        (Kind.REPLACED, {"actor": owner, "grant": custom}),
        (Kind.REMOVED, {"actor": None}),
        (Kind.EXPIRED, {"grant": week}),
        (Kind.SESSION_STARTED, in_visit),
        (Kind.SESSION_STARTED, {"actor": staff, "actor_team": "nonsense"}),
        (Kind.SESSION_ENDED, in_visit),
        (Kind.SESSION_ENDED, {**in_visit, "payload": {"reason": "expired"}}),
        (
            Kind.PAGE_VIEWED,
            {
                **in_visit,
                "object_label": "Segments",
                "method": "GET",
                "path": "/audience/segments/",
                "result": 200,
            },
        ),
        (Kind.PAGE_VIEWED, {**in_visit, "method": "GET", "path": '/a,b/"c"/\n', "result": 200}),
        (
            Kind.ACTION_PERFORMED,
            {**in_visit, "method": "POST", "path": "/settings/", "result": 302},
        ),
        (
            Kind.ACTION_PERFORMED,
            {**in_visit, "method": "POST", "path": "/x/", "result": 500, "payload": {}},
        ),
        (Kind.ACTION_BLOCKED, {**in_visit, "result": 403, "payload": {"capability": "x"}}),
        (
            Kind.REMOTE_ACCESS_DISABLED,
            {"actor": staff, "actor_team": "success", "payload": {"reason": "asked\u202e, twice"}},
        ),
        (Kind.REMOTE_ACCESS_ENABLED, {"actor": staff, "actor_team": "success"}),
    ]
    for number, (kind, facts) in enumerate(events):
        defaults = {"method": "", "payload": {}, "actor": owner}
        AccessEventFactory(
            account=account,
            kind=kind,
            created_at=(WINTER, SUMMER)[number % 2] + dt.timedelta(minutes=number),
            **{**defaults, **facts},
        )
    return [kind for kind, _facts in events]


def exported(client) -> list[list[str]]:
    body = b"".join(client.get(reverse("remote_access:history_export")).streaming_content)
    return list(csv.reader(io.StringIO(body.decode())))


def test_export__every_kind_says_what_the_page_and_the_api_say(owner_client, account, owner):
    """Each row: the page's sentence, and the cells of the API's record through csv_cell."""
    kinds = every_kind(account, owner)
    assert set(kinds) == set(Kind.values)
    header, *rows = exported(owner_client)
    assert header == CSV_COLUMNS
    events = AccessEvent.objects.select_related(*EVENT_RELATED).filter(account=account)
    events = list(with_sentences(events.order_by("-id"), account=account))
    assert len(rows) == len(events)
    for row, event in zip(rows, events, strict=True):
        record = event_record_fields(event, account=account)
        # The web page's sentence (the Security tab renders `describe`), cleaned for a cell.
        assert row[CSV_COLUMNS.index("summary")] == csv_cell(describe(event)), event.kind
        assert row == [csv_cell(record[column]) for column in CSV_COLUMNS], event.kind


def test_export__times_in_the_account_zone_to_the_second(owner_client, account, owner):
    AccessEventFactory(account=account, kind=Kind.EXPIRED, created_at=WINTER)
    AccessEventFactory(account=account, kind=Kind.EXPIRED, created_at=SUMMER)
    _header, summer, winter = exported(owner_client)
    assert summer[:2] == ["2026-07-14T23:04:05-04:00", "America/New_York"]
    assert winter[:2] == ["2026-01-15T12:30:59-05:00", "America/New_York"]


def test_export__what_people_typed_is_one_line_and_no_formula(owner_client, account, owner):
    every_kind(account, owner)
    rows = exported(owner_client)[1:]
    cells = [cell for row in rows for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)
    assert not any(set(cell) & set("\r\n\t\u202e") for cell in cells)
    assert "'=1+1" in {row[CSV_COLUMNS.index("ticket")] for row in rows}
    assert 'Sam "Sammy" Support, Jr <sam@latchkey.test>' in {row[4] for row in rows}


@pytest.mark.parametrize(
    "zone", ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Africa/Monrovia", "UTC"]
)
def test_local_times__as_isoformat_writes_them(zone):
    """Across summer-time changes, half-hour and odd-second offsets (Monrovia until 1972)."""
    tz = zoneinfo.ZoneInfo(zone)
    local_time = LocalTimes(tz)
    starts = [-2_700_000_000, -1_000_000_000, 63_000_000, 1_762_000_000, 1_774_000_000]
    for start in starts:
        for seconds in range(start, start + 400 * 86_400, 9_973):
            for moment in (seconds, seconds + 1, seconds + 59, seconds + 3_600):
                expected = dt.datetime.fromtimestamp(moment, tz).isoformat()
                assert local_time(moment) == expected, (zone, moment)


def test_export__larger_than_its_chunks_leaves_the_connection_ready_for_the_next_page(
    owner_client, account, owner
):
    """A download of several streamed chunks, with grants to look up along the way, then the
    next page on the same connection: it must find the connection as a fresh one (the first
    round trip is a pipeline, which a stream left half read would break)."""
    from remote_access.selectors import EXPORT_CHUNK_SIZE

    ended = RemoteAccessGrant.Status.REPLACED
    grants = [GrantFactory(account=account, granted_by=owner, status=ended) for _n in range(3)]
    AccessEvent.objects.bulk_create(
        AccessEvent(account=account, kind=Kind.GRANTED, actor=owner, grant=grants[n % 3])
        for n in range(EXPORT_CHUNK_SIZE * 2 + 500)
    )
    owner_client.get(reverse("remote_access:security"))
    response = owner_client.get(reverse("remote_access:history_export"))
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) == 1 + EXPORT_CHUNK_SIZE * 2 + 500  # the header and every event
    assert owner_client.get(reverse("remote_access:security")).status_code == 200
