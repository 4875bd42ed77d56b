"""Every request of a visit leaves a fact (DESIGN §5.10): pages opened, and every POST
whatever it answers, enforced by the visit middleware alone."""

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse

from accounts.authorization import requires
from accounts.roles import Capability
from remote_access.events import describe
from remote_access.models import AccessEvent
from tests.remote_access.factories import GrantFactory

Kind = AccessEvent.Kind


@requires(Capability.EDIT_SETTINGS)
def rename_and_answer_200(request: HttpRequest) -> HttpResponse:
    """A view that changes something and answers 200 without describing what it did."""
    account = request.latchkey.account
    account.name = request.POST["name"]
    account.save(update_fields=["name"])
    return HttpResponse("renamed")


@requires(Capability.EDIT_SETTINGS)
def rename_then_fail(request: HttpRequest) -> HttpResponse:
    """A view that changes something, then answers 500."""
    rename_and_answer_200(request)
    return HttpResponse("broken", status=500)


urlpatterns = [
    path("test/rename/", rename_and_answer_200),
    path("test/rename-then-fail/", rename_then_fail),
    path("", include("config.urls")),
]


@pytest.fixture
def inside(account, owner, support_staff, client_for):
    GrantFactory(account=account, granted_by=owner)
    staff = client_for(support_staff)
    enter = reverse("admin:accounts_account_enter", args=[account.pk])
    assert staff.post(enter, {"ticket_reference": "4411"}).status_code == 302
    return staff


def recorded(account, kind=None):
    events = AccessEvent.objects.filter(account=account).exclude(kind=Kind.SESSION_STARTED)
    return list(events.filter(kind=kind) if kind else events.order_by("id"))


def test_page_view__one_row_with_path_title_and_status(inside, account):
    with CaptureQueriesContext(connection) as captured:
        assert inside.get("/settings/security/").status_code == 200
    sql = [query["sql"] for query in captured]
    inserts = [q for q in sql if q.startswith('INSERT INTO "remote_access_accessevent"')]
    assert len(inserts) == 1
    (event,) = recorded(account)
    assert (event.kind, event.method, event.path, event.result) == (
        Kind.PAGE_VIEWED,
        "GET",
        "/settings/security/",
        200,
    )
    assert event.object_label == "Security"
    assert describe(event) == "Sam opened Security"


def test_page_view__not_found_recorded_with_its_status(inside, account):
    inside.get("/segments/999999/edit/")
    (event,) = recorded(account)
    assert (event.kind, event.result) == (Kind.PAGE_VIEWED, 404)


def test_redirects_and_static_files__not_recorded(inside, account):
    assert inside.get("/grant-access").status_code == 302
    inside.get("/static/css/app.css")
    assert recorded(account) == []


def test_refused_page__one_refusal_row_no_page_row(inside, account):
    assert inside.get("/settings/integrations/").status_code == 403
    assert [e.kind for e in recorded(account)] == [Kind.ACTION_BLOCKED]


@pytest.mark.urls(__name__)
def test_post_answering_200_that_changes_something__recorded(inside, account):
    response = inside.post("/test/rename/", {"name": "Acme Shop"})
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.name == "Acme Shop"
    (event,) = recorded(account)
    assert (event.kind, event.method, event.path, event.result) == (
        Kind.ACTION_PERFORMED,
        "POST",
        "/test/rename/",
        200,
    )
    assert describe(event) == "Sam submitted POST /test/rename/"


@pytest.mark.urls(__name__)
def test_post_answering_500__change_rolled_back_attempt_recorded(inside, account):
    response = inside.post("/test/rename-then-fail/", {"name": "Acme Shop"})
    assert response.status_code == 500
    account.refresh_from_db()
    assert account.name == "Acme Store"
    (event,) = recorded(account)
    assert (event.kind, event.result) == (Kind.ACTION_PERFORMED, 500)
    assert describe(event) == "Sam sent POST /test/rename-then-fail/ — nothing was changed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(__name__)
def test_page_views_alone_commit_without_waiting_for_the_disk(inside, account):
    """accounts.commits: a page view's row commits with synchronous_commit off for its own
    transaction (a database crash may lose the last fraction of a second of page views);
    the visit's other rows, an action included, wait for the disk as every write does."""
    from accounts.commits import RELAXED

    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    with CaptureQueriesContext(connection) as captured:
        assert inside.get("/settings/security/").status_code == 200
        assert inside.post("/test/rename/", {"name": "Acme Shop"}).status_code == 200
    relaxed = [query["sql"] for query in captured if RELAXED in query["sql"]]
    # One statement, one round trip: the setting is made by the page view's INSERT itself.
    assert len(relaxed) == 1
    assert relaxed[0].startswith('INSERT INTO "remote_access_accessevent"')
    assert relaxed[0].endswith(f'RETURNING "remote_access_accessevent"."id", {RELAXED}')
    assert [event.kind for event in recorded(account)] == [
        Kind.PAGE_VIEWED,
        Kind.ACTION_PERFORMED,
    ]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on", "the setting ends with its transaction"


def _relaxed_insert(account) -> list:
    """A compiled event INSERT asked not to wait for the disk, and the setting it left."""
    from accounts.compiled import CompiledInsert
    from tests.remote_access.factories import AccessEventFactory

    event = AccessEventFactory.build(account=account)
    with CaptureQueriesContext(connection) as captured:
        CompiledInsert(AccessEvent).insert(event, wait_for_disk=False)
    assert AccessEvent.objects.filter(pk=event.pk).exists()
    return [query["sql"] for query in captured]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prepared", [True, False])
def test_a_relaxed_insert_commits_without_waiting_and_the_next_waits(settings, account, prepared):
    """What the page view relies on, seen from inside: the INSERT runs as its own
    transaction with synchronous_commit off, prepared or not (DATABASE_PREPARED_STATEMENTS),
    and the setting is gone with that transaction."""
    from accounts.commits import RELAXED

    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    (sql,) = _relaxed_insert(account)
    assert sql.endswith(RELAXED)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db(transaction=True)
def test_a_relaxed_insert_inside_a_transaction_waits_for_the_disk(account):
    """Inside `atomic()` the row belongs to a transaction whose other writes must keep their
    durability: it is written as any other."""
    from django.db import transaction

    from accounts.commits import RELAXED

    with transaction.atomic():
        (sql,) = _relaxed_insert(account)
    assert RELAXED not in sql
