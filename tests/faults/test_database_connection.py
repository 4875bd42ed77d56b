"""A reused database connection is checked at the start of each request without a query
(config/postgresql/base.py): one the server has ended is replaced, a healthy one is kept.
The server end is real: `pg_terminate_backend` from another connection, as a restart or a
dropped link would do it — never a restart of the shared PostgreSQL."""

import time

import psycopg
import pytest
from django.db import close_old_connections, connection

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    return connection


def terminate(backend_pid: int) -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**{**params, "autocommit": True}) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


def test_a_healthy_idle_connection_is_kept_without_a_query(postgresql, monkeypatch):
    postgresql.ensure_connection()
    raw = postgresql.connection

    def no_query(*args, **kwargs):
        raise AssertionError("the health check must not send a query")

    monkeypatch.setattr(raw, "cursor", no_query)
    try:
        assert postgresql.is_usable() is True
    finally:
        monkeypatch.undo()  # the database's own clean-up after the test needs its cursors


def test_a_connection_the_server_ended_is_replaced_before_the_next_request(postgresql):
    postgresql.ensure_connection()
    old_pid = postgresql.connection.info.backend_pid
    terminate(old_pid)
    deadline = time.monotonic() + 5
    while postgresql.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert postgresql.is_usable() is False

    close_old_connections()  # what Django does when a request starts
    with postgresql.cursor() as cursor:  # the request's first query
        cursor.execute("SELECT pg_backend_pid()")
        new_pid = cursor.fetchone()[0]
    assert new_pid != old_pid


def test_a_connection_inside_a_failed_transaction_asks_the_server(postgresql):
    """Not idle: the local check steps aside for Django's own, which sees the failure."""
    from django.db import DataError, transaction
    from psycopg.pq import TransactionStatus

    with transaction.atomic():
        with pytest.raises(DataError), postgresql.cursor() as cursor:
            cursor.execute("SELECT 1/0")
        assert postgresql.connection.info.transaction_status == TransactionStatus.INERROR
        assert postgresql.is_usable() is False
        transaction.set_rollback(True)
    assert postgresql.is_usable() is True  # rolled back: idle and healthy again
