"""GET /api/v1/access-events: the access history for the merchant's security tools."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.actors import MemberActor
from accounts.models import ApiScope
from accounts.roles import Role
from accounts.services.integrations import api_key_create
from remote_access.api import API_REQUESTS_PER_MINUTE
from remote_access.models import AccessEvent
from tests.remote_access.factories import AccessEventFactory, event_committed_late

URL = reverse("remote_access:api_access_events")
Kind = AccessEvent.Kind


def new_key(account, user, *, scopes=(ApiScope.ACCESS_EVENTS_READ,)) -> str:
    actor = MemberActor.for_membership(user=user, account=account, role=Role.OWNER)
    return api_key_create(account=account, actor=actor, label="SIEM", scopes=scopes)[1]


def call(key: str | None, **query):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return Client().get(URL, query, **headers)


@pytest.fixture
def key(account, owner):
    return new_key(account, owner)


def test_api__no_key_or_a_wrong_key_is_401_with_a_json_body(key):
    for response in (call(None), call("lk_not-a-key")):
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert "API key" in response.json()["error"]
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_api__key_without_the_scope_is_403(account, owner):
    response = call(new_key(account, owner, scopes=()))
    assert response.status_code == 403
    assert "access_events:read" in response.json()["error"]


def test_api__another_accounts_key_never_sees_this_accounts_events(
    account, other_account, other_owner, key
):
    AccessEventFactory(account=account, summary="acme only")
    foreign = new_key(other_account, other_owner)
    assert call(foreign).json() == {"events": [], "next": None}
    assert [e["payload"] for e in call(key).json()["events"]] == [{"action": "acme only"}]


def test_api__cursor_returns_every_row_once_while_new_events_arrive(account, key):
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n in range(25):
        AccessEventFactory(account=account, created_at=base + dt.timedelta(minutes=n))
    seen, after, rounds = [], None, 0
    while True:
        page = call(key, limit=10, **({"after": after} if after else {})).json()
        seen += [event["id"] for event in page["events"]]
        # Meanwhile: a new event, and a late one dated before everything (an expiry the
        # sweep reached after the fact).
        AccessEventFactory(account=account)
        AccessEventFactory(account=account, created_at=base - dt.timedelta(days=1))
        rounds += 1
        after = page["next"]
        if after is None:
            break
    first_ids = set(AccessEvent.objects.order_by("id").values_list("id", flat=True)[:25])
    assert len(seen) == len(set(seen))
    assert first_ids <= set(seen)
    assert rounds == 3


def walk_back(key: str, *, to: int) -> list[int]:
    """A poller's walk: newest first, page by page, until an id at or below `to`."""
    ids, after = [], None
    while True:
        page = call(key, limit=2, **({"after": after} if after else {})).json()
        for event in page["events"]:
            if event["id"] <= to:
                return ids
            ids.append(event["id"])
        after = page["next"]
        if after is None:
            return ids


@pytest.mark.django_db(transaction=True)
def test_api__polling_as_documented_gets_an_event_that_committed_after_a_newer_one(account, key):
    """docs/api.md: an id is taken when an event is written, and the event appears when its
    transaction commits, so one can appear after a newer one. A poller that walks back to
    the highest id it had ten minutes ago (not the last poll's) still gets it: here, what
    it had before the late event's id was taken."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing commits out of order")
    have = set(walk_back(key, to=AccessEventFactory(account=account).pk - 1))
    had_ten_minutes_ago = max(have)
    with event_committed_late(account=account, summary="committed late"):
        newer = AccessEventFactory(account=account)
        have |= set(walk_back(key, to=had_ten_minutes_ago))
        last_poll = max(have)
        assert newer.pk in have
    late = AccessEvent.objects.get(payload__action="committed late").pk
    assert late < newer.pk, "the late event took its id first"
    assert late not in have
    assert late not in walk_back(key, to=last_poll), "the last poll's highest id is past it"
    have |= set(walk_back(key, to=had_ten_minutes_ago))
    assert late in have


def test_api__filters_by_kind_and_time(account, key):
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    AccessEventFactory(account=account, kind=Kind.REMOVED, created_at=base)
    AccessEventFactory(account=account, created_at=base + dt.timedelta(days=1))
    AccessEventFactory(account=account, created_at=base + dt.timedelta(days=2))
    kinds = [e["event"] for e in call(key, kind="removed").json()["events"]]
    assert kinds == ["removed"]
    window = call(key, since="2026-01-01T12:00:00Z", until="2026-01-02T12:00:00Z").json()
    assert len(window["events"]) == 1


@pytest.mark.parametrize(
    "query",
    [{"kind": "nonsense"}, {"since": "yesterday"}, {"after": "abc"}, {"limit": "1000"}],
)
def test_api__bad_query_is_400_with_a_json_body(key, query):
    response = call(key, **query)
    assert response.status_code == 400
    assert response.json()["error"]


def test_api__rate_limited_per_key(key):
    for _ in range(API_REQUESTS_PER_MINUTE):
        assert call(key).status_code == 200
    response = call(key)
    assert response.status_code == 429
    assert response.json()["error"]


def test_api__revoked_key_is_401(account, owner, client_for):
    secret = new_key(account, owner)
    client = client_for(owner)
    api_key = account.api_keys.get()
    client.post(reverse("accounts:api_key_revoke", args=[api_key.pk]))
    assert call(secret).status_code == 401


def test_integrations_tab__creates_a_key_with_the_scope(owner_client, account):
    response = owner_client.post(
        reverse("accounts:api_key_create"), {"label": "SIEM", "scopes": ["access_events:read"]}
    )
    assert response.status_code == 200
    assert account.api_keys.get().scopes == ["access_events:read"]
    assert 'value="access_events:read"' in response.content.decode()
