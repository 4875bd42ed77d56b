"""The benchmarks write their data with raw SQL for speed; this runs that set-up against the
test database, so a column added to a model without a default fails here, not in the next
person's `make bench`."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_overdue_grants__set_up_and_expired_with_their_notices():
    from common import make_overdue_grants

    from outbox.models import OutboxMessage
    from remote_access.models import RemoteAccessGrant
    from remote_access.services import grants_expire_due

    make_overdue_grants(20, with_owners=True)
    assert RemoteAccessGrant.objects.filter(status="active").count() == 20
    assert grants_expire_due() == 20
    assert OutboxMessage.objects.filter(kind="access_expired").count() == 20


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
def test_load_counts_the_cpu_of_the_server_it_started():
    """bench/load.py's CPU a request: the server's processes (here this one stands in for
    it) are counted under gunicorn, and the count grows with the work they do."""
    import os
    import time

    from load import cpu_seconds, cpu_used_between

    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    used = cpu_used_between(before, cpu_seconds(os.getpid()))
    assert used["gunicorn"] >= 0.15
    assert used["postgres"] >= 0


def test_load_counts_a_process_that_started_whole_and_one_that_ended_not_at_all():
    from load import cpu_used_between

    before = {1: ("gunicorn", 5.0), 2: ("postgres", 3.0), 3: ("postgres", 9.0)}
    after = {1: ("gunicorn", 5.5), 2: ("postgres", 3.25), 4: ("postgres", 0.5)}
    assert cpu_used_between(before, after) == {"gunicorn": 0.5, "postgres": 0.75}


# A mail row's columns that are not what was written but when and what delivery did since.
MAIL_DELIVERY_COLUMNS = (
    "id",
    "created_at",
    "next_attempt_at",
    "status",
    "attempts",
    "claimed_at",
    "claimed_by",
    "sent_at",
    "last_error",
)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_expiry_floor_writes_what_the_sweep_writes():
    """bench/expire.py compares the sweep with "the writes the rules require": they must be
    the same rows (each grant expired, one event and one mail each), or the comparison says
    nothing. Compared column by column, but ids and, for the mails, when they were queued and
    what delivery did with them since (the tests deliver at once)."""
    from common import make_overdue_grants
    from django.db import connection, transaction
    from expire import FLOOR_TABLES, copy_floor_tables, drop_floor_tables, floor_sql

    from remote_access.services import grants_expire_due

    def rows(table: str, *, leave_out: tuple[str, ...]) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table} LIMIT 0")  # noqa: S608 - our own tables
            names = [column.name for column in cursor.description if column.name not in leave_out]
            order = ", ".join(str(number) for number in range(1, len(names) + 1))
            cursor.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY {order}")  # noqa: S608
            return cursor.fetchall()

    def constraints(table: str) -> list[str]:
        """Its foreign keys and checks: each costs the writes something."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'c') ORDER BY 1",
                [table],
            )
            return [definition for (definition,) in cursor.fetchall()]

    make_overdue_grants(5, with_owners=False)
    copy_floor_tables()
    try:
        for original, copy in FLOOR_TABLES.values():
            assert constraints(copy) == constraints(original), original
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(floor_sql())
            assert cursor.fetchone() == (5,)
        assert grants_expire_due() == 5
        for name, (original, copy) in FLOOR_TABLES.items():
            leave_out = {"grants": (), "events": ("id",)}.get(name, MAIL_DELIVERY_COLUMNS)
            copied = rows(copy, leave_out=leave_out)
            assert len(copied) == 5, name
            assert copied == rows(original, leave_out=leave_out), name
    finally:
        drop_floor_tables()


def report_rows(printed: str) -> dict[str, list[str]]:
    """The `make bench` rows a benchmark printed: what → [figure, target, held?]."""
    from common import ROW_PREFIX

    rows = [line.removeprefix(ROW_PREFIX).split("|") for line in printed.splitlines()]
    return {what: rest for what, *rest in rows if len(rest) == 3}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_pages_bench_times_the_representative_beside_the_row_the_rules_require(capsys):
    """bench/pages.py writes a representative's page-view row again and again, as the
    middleware does and as its bare INSERT: the row must still be one statement, and every
    comparison must reach its row of the table."""
    from common import shop_with_live_grant
    from pages import representative_vs_admin

    from accounts.models import Membership, User
    from remote_access.models import AccessEvent

    account, _owner = shop_with_live_grant()
    admin = User.objects.create(email="admin@bench.test", full_name="Adam")
    Membership.objects.create(user=admin, account=account, role="admin")
    representative_vs_admin(account, admin, requests=1)

    rows = report_rows(capsys.readouterr().out)
    assert rows["representative ÷ Admin, same page"][0].endswith("(+1 query)")
    assert len([what for what in rows if "page-view row's INSERT alone" in what]) == 2
    # The rows it wrote are the middleware's: a page view of the visit, with the page's title.
    written = AccessEvent.objects.filter(kind=AccessEvent.Kind.PAGE_VIEWED)
    assert written.count() > 60
    assert set(written.values_list("session__account", "object_label").distinct()) == {
        (account.pk, "Segments")
    }


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_pages_bench_times_the_security_tab_beside_its_reads_alone(capsys):
    """The Security tab's parts: the tab itself, and its view rendering the empty page in its
    place; both pages answer, and the tab is itself again once timed."""
    from common import shop_with_live_grant
    from django.test import Client
    from pages import SECURITY, add_events, security_tab_parts

    account, owner = shop_with_live_grant()
    add_events(account, 30)
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    security_tab_parts(client, requests=2)

    rows = report_rows(capsys.readouterr().out)
    assert len([what for what in rows if what.startswith("Security tab ÷ signed-in empty")]) == 1
    assert len([what for what in rows if what.startswith("the Security tab's reads alone")]) == 1
    response = client.get(SECURITY)
    assert response.status_code == 200
    assert b"Remote Access" in response.content
