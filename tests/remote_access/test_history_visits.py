"""The Security tab reads the history as visits, one `<details>` per visit."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actors import MemberActor
from accounts.roles import Role
from accounts.services.integrations import api_key_create
from remote_access.models import AccessEvent
from tests.remote_access.factories import AccessEventFactory, GrantFactory

SECURITY = reverse("remote_access:security")
Kind = AccessEvent.Kind


@pytest.fixture
def visit_made(account, owner, support_staff, client_for):
    """Sam from Support opens 3 pages, changes 1 thing, is refused 1 action, and exits."""
    GrantFactory(account=account, granted_by=owner)
    staff = client_for(support_staff)
    staff.post(
        reverse("admin:accounts_account_enter", args=[account.pk]), {"ticket_reference": "4411"}
    )
    staff.get("/settings/")
    staff.get("/audience/segments/")
    staff.get("/settings/security/")
    staff.post("/settings/", {"name": "Acme Shop", "timezone": "UTC"})
    staff.post("/settings/billing/change/pro/", {})
    staff.post(reverse("remote_access:representative_exit"))
    return staff


def csv_rows(client):
    body = b"".join(client.get(reverse("remote_access:history_export")).streaming_content)
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_visit__exactly_its_rows_one_group_with_counts_csv_and_api_agree(
    visit_made, account, owner, owner_client
):
    kinds = list(
        AccessEvent.objects.filter(account=account, session__isnull=False)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        Kind.SESSION_STARTED,
        Kind.PAGE_VIEWED,
        Kind.PAGE_VIEWED,
        Kind.PAGE_VIEWED,
        Kind.ACTION_PERFORMED,
        Kind.ACTION_BLOCKED,
        Kind.SESSION_ENDED,
    ]
    response = owner_client.get(SECURITY)
    groups = [item for item in response.context["history"].items if getattr(item, "is_visit", 0)]
    assert len(groups) == 1
    (group,) = groups
    assert (len(group.pages), len(group.changes), len(group.refusals)) == (3, 1, 1)
    body = response.content.decode()
    assert "Sam from Support</strong> · ticket #4411" in body
    assert "opened 3 pages" in body
    assert "changed 1 thing" in body
    assert "1 action refused" in body
    assert "<details>" in body
    assert "Sam tried to change the billing plan — refused" in body
    exported = csv_rows(owner_client)
    visit_rows = [row for row in exported if row["visit_id"]]
    assert [row["event"] for row in reversed(visit_rows)] == kinds
    assert {row["ticket"] for row in visit_rows} == {"4411"}
    assert {row["team"] for row in visit_rows} == {"support"}
    paths = [row["path"] for row in reversed(visit_rows) if row["event"] == Kind.PAGE_VIEWED]
    assert paths == ["/settings/", "/audience/segments/", "/settings/security/"]
    # The API returns the same rows, the same facts.
    actor = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    _api_key, key = api_key_create(
        account=account, actor=actor, label="SIEM", scopes=["access_events:read"]
    )
    api = (
        Client()
        .get(reverse("remote_access:api_access_events"), HTTP_AUTHORIZATION=f"Bearer {key}")
        .json()["events"]
    )
    columns = ["event", "summary", "visit_id", "ticket", "team", "method", "path", "result"]
    as_csv = [[row[c] for c in columns] for row in exported]
    as_api = [["" if e[c] is None else str(e[c]) for c in columns] for e in api]
    assert as_api == as_csv


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_history__deep_page_costs_what_page_one_costs(visit_made, account, owner_client):
    """Keyset pagination: the same queries on the first and on a deep page, visits included."""
    base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    AccessEvent.objects.bulk_create(
        AccessEvent(account=account, kind=Kind.REMOVED, created_at=base + dt.timedelta(seconds=n))
        for n in range(600)
    )
    visit_start = AccessEvent.objects.get(kind=Kind.SESSION_STARTED)
    AccessEventFactory(account=account, created_at=visit_start.created_at)
    first = _queries(owner_client, SECURITY)
    url = SECURITY
    for _ in range(10):
        url = SECURITY + "?before=" + owner_client.get(url).context["history"].older
    assert _queries(owner_client, url) <= first
