"""Every compiled query stays cheap when PostgreSQL plans it once for any value.

The compiled queries run as prepared statements (accounts/compiled.py). After five runs
PostgreSQL may keep a generic plan, made without knowing which account or user it is for.
When one account holds most of a table, such a plan can walk the whole table backwards for
an account with few rows: the newest event of an empty account took 150 ms at a million
events of another account (bench/pages.py). This test builds that skew, forces the generic
plan of every compiled query, runs it for a small and a big tenant, and counts the rows the
plan read and threw away.
"""

import datetime as dt
import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.utils import timezone

from accounts.compiled import REGISTRY, CompiledQuery
from accounts.models import Account, Membership
from accounts.roles import Role
from remote_access.models import (
    AccessEvent,
    AccessRequest,
    RemoteAccessGrant,
    RepresentativeSession,
)
from remote_access.selectors import enter_permission_id
from remote_access.services.staff import staff_member_set_team
from tests.accounts.factories import (
    AccountFactory,
    MembershipFactory,
    StaffUserFactory,
    UserFactory,
)
from tests.remote_access.factories import GrantFactory, RepresentativeSessionFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's plans"),
]

# Rows of the big tenant: a plan that reads through them is found by what it throws away.
BIG = 2_000
# What a good plan may read and not return (a few rows of the small tenant's own).
THROWN_AWAY_AT_MOST = 20


@pytest.fixture
def skewed():
    """A big account (thousands of events, hundreds of old grants, visits and requests, and
    an Owner of hundreds of accounts) and a small one with a live grant and nothing else."""
    now = timezone.now()
    staff = StaffUserFactory()
    staff_member_set_team(user=staff, team="Support")
    big, small = AccountFactory(name="Big"), AccountFactory(name="Small")
    big_owner, small_owner = UserFactory(), UserFactory()
    MembershipFactory(user=small_owner, account=small, role=Role.OWNER)
    others = Account.objects.bulk_create(Account(name=f"Other {n}") for n in range(300))
    Membership.objects.bulk_create(
        Membership(user=big_owner, account=account, role=Role.OWNER) for account in [big, *others]
    )
    long_ago = now - dt.timedelta(days=400)
    old_grants = RemoteAccessGrant.objects.bulk_create(
        RemoteAccessGrant(
            account=big,
            granted_by=big_owner,
            granted_at=long_ago,
            expires_at=long_ago + dt.timedelta(days=1),
            duration="1d",
            status=RemoteAccessGrant.Status.EXPIRED,
        )
        for _n in range(300)
    )
    RepresentativeSession.objects.bulk_create(
        RepresentativeSession(
            account=big,
            grant=grant,
            staff_user=staff,
            team="support",
            ticket_reference="1",
            ended_at=long_ago,
        )
        for grant in old_grants
    )
    AccessRequest.objects.bulk_create(
        AccessRequest(
            account=big,
            staff_user=staff,
            team="support",
            ticket_reference="1",
            reason="An old request",
            duration="1d",
            status=AccessRequest.Status.DENIED,
            created_at=long_ago,
            expires_at=long_ago + dt.timedelta(days=1),
        )
        for _n in range(300)
    )
    AccessEvent.objects.bulk_create(
        AccessEvent(account=big, kind=AccessEvent.Kind.GRANTED, created_at=long_ago)
        for _n in range(BIG)
    )
    live_visit_big = RepresentativeSessionFactory(
        grant=GrantFactory(account=big, granted_by=big_owner), staff_user=staff
    )
    other_staff = StaffUserFactory()
    staff_member_set_team(user=other_staff, team="Support")
    live_visit_small = RepresentativeSessionFactory(
        grant=GrantFactory(account=small, granted_by=small_owner), staff_user=other_staff
    )
    session = SessionStore()
    session["x"] = 1
    session.create()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "now": now,
        "tenants": [
            {"account": small, "owner": small_owner, "visit": live_visit_small},
            {"account": big, "owner": big_owner, "visit": live_visit_big},
        ],
        "session_key": session.session_key,
    }


def values_for(name: str, skewed: dict, tenant: dict) -> dict:
    now = skewed["now"]
    account, owner, visit = tenant["account"], tenant["owner"], tenant["visit"]
    return {
        "accounts.backends._user": {"user_id": owner.pk},
        "accounts.selectors._memberships_of": {"user_id": owner.pk},
        "accounts.sessions._live_session": {"session_key": skewed["session_key"], "now": now},
        "remote_access.selectors._live_grant": {"account_id": account.pk, "now": now},
        "remote_access.selectors._pending": {"account_id": account.pk, "now": now},
        "remote_access.selectors._newest_event": {"account_id": account.pk},
        "remote_access.selectors._newest_history_items": {"account_id": account.pk},
        "remote_access.selectors._older_history_items": {
            "account_id": account.pk,
            "before_at": now,
            "before_id": 2**62,
        },
        "remote_access.selectors._visits_inside_accounts_of": {"user_id": owner.pk, "now": now},
        "remote_access.selectors._visits_inside": {"account_id": account.pk, "now": now},
        "remote_access.selectors._visit_of": {
            "session_id": visit.pk,
            "staff_user_id": visit.staff_user_id,
            "now": now,
            "permission_id": enter_permission_id(),
        },
    }[name]


def name_of(query: CompiledQuery) -> str:
    return f"{query.build.__module__}.{query.build.__qualname__}"


def generic_plan(query: CompiledQuery, values: dict) -> dict:
    """EXPLAIN ANALYZE of the query's generic plan, run with `values`."""
    sql, params = query._sql_and_params(values)
    numbers = iter(range(1, len(params) + 1))
    numbered = re.sub(r"%s", lambda _match: f"${next(numbers)}", sql)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # These tables are small, and reading a small table whole is the planner's right
        # choice; with that off, what is left is its choice of index — which a plan for any
        # value can get wrong.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE plan_probe AS {numbered}")
        try:
            placeholders = ", ".join(["%s"] * len(params))
            cursor.execute(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE plan_probe({placeholders})", params
            )
            return cursor.fetchone()[0][0]["Plan"]
        finally:
            cursor.execute("DEALLOCATE plan_probe")


def thrown_away(node: dict) -> int:
    """Rows the plan's scans read and dropped (per loop in EXPLAIN, so times the loops)."""
    dropped = sum(
        node.get(key, 0) for key in ("Rows Removed by Filter", "Rows Removed by Index Recheck")
    ) * node.get("Actual Loops", 1)
    return dropped + sum(thrown_away(child) for child in node.get("Plans", []))


def outline(node: dict, depth: int = 0) -> str:
    """The plan as lines: each node, what it scans, and the rows it threw away."""
    line = "  " * depth + " ".join(
        str(part)
        for part in (
            node["Node Type"],
            node.get("Relation Name", ""),
            node.get("Index Name", ""),
            node.get("Index Cond", ""),
            node.get("Filter", ""),
            f"rows={node.get('Actual Rows')} loops={node.get('Actual Loops')}",
            f"removed={thrown_away({**node, 'Plans': []})}",
        )
        if part
    )
    return "\n".join([line, *(outline(child, depth + 1) for child in node.get("Plans", []))])


def test_every_compiled_query_has_values_here(skewed):
    for query in REGISTRY:
        values_for(name_of(query), skewed, skewed["tenants"][0])  # KeyError: add it above


@pytest.mark.parametrize("tenant", ["small", "big"])
@pytest.mark.parametrize("query", REGISTRY, ids=name_of)
def test_generic_plan_reads_only_what_it_returns(query, tenant, skewed):
    values = values_for(name_of(query), skewed, skewed["tenants"][tenant == "big"])
    plan = generic_plan(query, values)
    assert thrown_away(plan) <= THROWN_AWAY_AT_MOST, outline(plan)
