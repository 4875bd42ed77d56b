"""Every query compiled once per process (accounts/compiled.py) returns what its QuerySet
returns: the same rows, in the same order, with the same field values and the same related
objects. A new CompiledQuery without a sample here fails `test_every_compiled_query_is_sampled`.
"""

import datetime as dt
import threading

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.compiled import REGISTRY, CompiledQuery
from accounts.roles import Role
from accounts.sessions import SessionStore
from remote_access.models import AccessEvent, RepresentativeSession
from remote_access.selectors import enter_permission_id
from remote_access.services.staff import staff_member_set_team
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory
from tests.remote_access.factories import (
    AccessEventFactory,
    AccessRequestFactory,
    GrantFactory,
    RepresentativeSessionFactory,
)

pytestmark = pytest.mark.django_db

# The annotations compiled queries carry (remote_access.selectors._visit_of).
ANNOTATIONS = ("grant_is_live", "staff_may_enter")


def _import_every_module() -> None:
    """A compiled query registers itself when its module is imported: import them all, so
    that one in a module nothing has imported yet is still found."""
    import importlib
    import pkgutil

    for app in ("accounts", "audience", "health", "outbox", "remote_access"):
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)


_import_every_module()


@pytest.fixture
def world():
    """Two accounts for one person, one with a visit going on, one with a visit whose grant
    has expired, and a session that is live and one that has expired."""
    now = timezone.now()
    person = UserFactory()
    zed = AccountFactory(name="Zed")
    acme = AccountFactory(name="Acme")
    MembershipFactory(user=person, account=zed, role=Role.ADMIN)
    MembershipFactory(user=person, account=acme, role=Role.OWNER)
    live = GrantFactory(account=acme, granted_by=person, expires_at=now + dt.timedelta(days=1))
    inside = RepresentativeSessionFactory(account=acme, grant=live)
    staff_member_set_team(user=inside.staff_user, team="Support")  # may enter accounts
    AccessEventFactory(account=acme)
    AccessEventFactory(account=acme, created_at=now - dt.timedelta(hours=1))
    AccessRequestFactory(account=acme)
    over = GrantFactory(
        account=zed,
        granted_by=person,
        granted_at=now - dt.timedelta(days=2),
        expires_at=now - dt.timedelta(minutes=1),
    )
    RepresentativeSessionFactory(account=zed, grant=over)
    live_session = DjangoSessionStore()
    live_session["x"] = 1
    live_session.create()
    expired = DjangoSessionStore()
    expired.set_expiry(-60)
    expired.create()
    return {
        "now": now,
        "person": person,
        "accounts": [acme, zed],
        "sessions": [live_session.session_key, expired.session_key, "nosuchkey" * 4],
    }


def samples(world) -> dict[str, list[dict]]:
    """For each compiled query (by its build function), the values to call it with."""
    now = world["now"]
    return {
        "accounts.backends._user": [{"user_id": world["person"].pk}, {"user_id": -1}],
        "accounts.selectors._memberships_of": [
            {"user_id": world["person"].pk},
            {"user_id": -1},
        ],
        "accounts.sessions._live_session": [
            {"session_key": key, "now": now} for key in world["sessions"]
        ],
        "remote_access.selectors._live_grant": [
            {"account_id": account.pk, "now": now} for account in world["accounts"]
        ],
        "remote_access.selectors._pending": [
            {"account_id": account.pk, "now": now} for account in world["accounts"]
        ],
        "remote_access.selectors._newest_event": [
            {"account_id": account.pk} for account in world["accounts"]
        ],
        "remote_access.selectors._newest_history_items": [
            {"account_id": account.pk} for account in world["accounts"]
        ],
        "remote_access.selectors._older_history_items": [
            {"account_id": account.pk, "before_at": before_at, "before_id": before_id}
            for account in world["accounts"]
            for before_at, before_id in (
                (now + dt.timedelta(days=1), 0),
                *AccessEvent.objects.values_list("created_at", "id"),
            )
        ],
        "remote_access.selectors._visits_inside_accounts_of": [
            {"user_id": world["person"].pk, "now": now},
            {"user_id": -1, "now": now},
        ],
        "remote_access.selectors._visits_inside": [
            {"account_id": account.pk, "now": now} for account in world["accounts"]
        ],
        "remote_access.selectors._visit_of": [
            {
                "session_id": visit.pk,
                "staff_user_id": staff_user_id,
                "now": now,
                "permission_id": enter_permission_id(),
            }
            for visit in RepresentativeSession.objects.all()
            for staff_user_id in (visit.staff_user_id, world["person"].pk)
        ],
    }


def name_of(query: CompiledQuery) -> str:
    return f"{query.build.__module__}.{query.build.__qualname__}"


def test_every_compiled_query_is_sampled(world):
    assert {name_of(query) for query in REGISTRY} == set(samples(world))


def facts(obj) -> dict:
    """Every column of the object, its annotations, and the related objects loaded with it."""
    values = {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}
    values.update({name: getattr(obj, name) for name in ANNOTATIONS if hasattr(obj, name)})
    for name, related in obj._state.fields_cache.items():
        values[name] = None if related is None else facts(related)
    return values


@pytest.mark.parametrize("query", REGISTRY, ids=name_of)
def test_compiled_query_returns_what_its_queryset_returns(query, world):
    calls = samples(world)[name_of(query)]
    found_any = False
    for values in calls:
        expected = list(query.build(**values))
        got = query(**values)
        assert [facts(obj) for obj in got] == [facts(obj) for obj in expected], values
        found_any = found_any or bool(got)
    assert found_any, "the samples must find at least one row"


def test_a_compiled_query_is_one_query_each_call(world):
    query = next(q for q in REGISTRY if name_of(q) == "accounts.selectors._memberships_of")
    query(user_id=world["person"].pk)
    with CaptureQueriesContext(connection) as queries:
        memberships = query(user_id=world["person"].pk)
        assert [m.account.name for m in memberships] == ["Acme", "Zed"]
    assert len(queries) == 1


@pytest.mark.django_db(transaction=True)
def test_a_compiled_query_runs_on_the_calling_threads_connection():
    """Compiled on one thread, called on another (gunicorn's threads): each uses its own."""
    person = UserFactory()
    MembershipFactory(user=person)
    query = next(q for q in REGISTRY if name_of(q) == "accounts.selectors._memberships_of")
    query(user_id=person.pk)
    seen = {}

    def other_thread():
        from django.db import connections

        with CaptureQueriesContext(connections["default"]) as queries:
            seen["rows"] = len(query(user_id=person.pk))
        seen["queries"] = len(queries)
        connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == {"rows": 1, "queries": 1}


def test_an_expired_session_does_not_load(world):
    live, expired, missing = world["sessions"]
    assert SessionStore(live).load() == {"x": 1}
    store = SessionStore(expired)
    assert store.load() == {}
    assert store.session_key is None
    assert SessionStore(missing).load() == {}


def test_a_placeholder_missing_from_the_sql_is_refused():
    from accounts.models import Account

    query = CompiledQuery(lambda pk: Account.objects.filter(pk=1), pk=-5)
    REGISTRY.remove(query)
    with pytest.raises(ValueError, match="not in the SQL"):
        query(pk=3)


def test_queries_run_together_in_one_round_trip_return_what_each_returns_alone(world):
    from accounts.compiled import run_together

    by_name = {name_of(query): query for query in REGISTRY}
    acme = world["accounts"][0]
    bound = [
        by_name["remote_access.selectors._live_grant"].bind(account_id=acme.pk, now=world["now"]),
        by_name["remote_access.selectors._pending"].bind(account_id=acme.pk, now=world["now"]),
        by_name["remote_access.selectors._newest_event"].bind(account_id=acme.pk),
    ]
    alone = [[facts(obj) for obj in b.query(**b.values)] for b in bound]
    with CaptureQueriesContext(connection) as queries:
        together = run_together(*bound)
    assert [[facts(obj) for obj in objects] for objects in together] == alone
    assert all(alone), "each query finds something"
    assert len(queries) == (1 if connection.vendor == "postgresql" else 3)


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_compiled_queries_run_as_statements_prepared_once_per_connection(
    world, round_trips_counted
):
    """PostgreSQL plans a prepared statement once, not on every request
    (docs/performance.md): the session's read is prepared by its first call and reused."""
    live = world["sessions"][0]
    SessionStore(live).load()
    prepared = [sql for sql in _prepared_statements() if '"django_session"' in sql]
    assert len(prepared) == 1, prepared
    with CaptureQueriesContext(connection) as queries:
        assert SessionStore(live).load() == {"x": 1}
    assert [sql for sql in _prepared_statements() if '"django_session"' in sql] == prepared
    # The query log shows the statement with its values, as for any other query.
    assert live in queries[0]["sql"]


def test_without_prepared_statements_compiled_queries_still_run(
    world, round_trips_counted, settings
):
    """DATABASE_PREPARED_STATEMENTS=false (a pooler that cannot keep them) sends the same
    statements unprepared, still in one round trip."""
    settings.DATABASE_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as queries:
        live = world["sessions"][0]
        assert SessionStore(live).load() == {"x": 1}
    assert len(queries) == 1
    assert not any('"django_session"' in sql for sql in _prepared_statements())


def test_the_orms_own_queries_are_left_as_django_runs_them(world, round_trips_counted):
    """Only compiled queries are prepared: the connection keeps Django's setting (no
    threshold), so psycopg neither prepares nor counts the ORM's statements — a bulk
    insert's text, values and all, kept a hundred times over, grew an import by 24 MiB."""
    from accounts.models import Account

    SessionStore(world["sessions"][0]).load()
    assert connection.connection.prepare_threshold is None
    for _ in range(10):
        list(Account.objects.filter(name="Acme"))
    assert not any('"accounts_account"' in sql for sql in _prepared_statements())


def test_a_failing_statement_raises_djangos_error_and_the_connection_goes_on(
    world, round_trips_counted
):
    from django.db import DataError, transaction

    from accounts.compiled import run_together

    query = next(q for q in REGISTRY if name_of(q) == "accounts.selectors._memberships_of")
    with pytest.raises(DataError), transaction.atomic():
        run_together(query.bind(user_id="not a number"), query.bind(user_id=world["person"].pk))
    assert [m.account.name for m in query(user_id=world["person"].pk)] == ["Acme", "Zed"]


# --- CompiledInsert ------------------------------------------------------------------------


def _columns(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_a_compiled_insert_writes_the_row_the_orm_writes(world):
    """Every column, the defaults of those not given included, and the key read back."""
    from accounts.compiled import CompiledInsert

    account = world["accounts"][0]
    visit = RepresentativeSession.objects.filter(account=account).get()
    facts = {
        "account": account,
        "kind": AccessEvent.Kind.PAGE_VIEWED,
        "actor": visit.staff_user,
        "actor_team": "support",
        "session": visit,
        "grant": visit.grant,
        "object_label": "Segments 100% 'quoted' %s",
        "path": "/audience/segments/",
        "result": 200,
        "payload": {"why": ["a", 1, None]},
        "created_at": world["now"],
    }
    written = CompiledInsert(AccessEvent).insert(AccessEvent(**facts))
    assert written.pk is not None
    assert not written._state.adding
    created = AccessEvent.objects.create(**facts)
    stored = AccessEvent.objects.in_bulk([written.pk, created.pk])
    assert {**_columns(stored[written.pk]), "id": None} == {
        **_columns(stored[created.pk]),
        "id": None,
    }
    assert _columns(stored[written.pk]) == _columns(written)


def test_a_compiled_insert_refuses_a_model_whose_fields_set_themselves():
    from accounts.compiled import CompiledInsert
    from audience.models import Segment

    assert any(getattr(f, "auto_now", False) for f in Segment._meta.concrete_fields)
    with pytest.raises(ValueError, match="set themselves"):
        CompiledInsert(Segment)
