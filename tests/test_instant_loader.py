"""config/postgresql/base.py reads instants (`timestamptz`) with psycopg's compiled loader
instead of Django's Python one: the same aware datetimes, in UTC, whatever the literal —
and still in UTC when a session was left in another zone."""

import datetime as dt

import pytest
from django.db import connection
from psycopg.postgres import types
from psycopg.pq import Format

pytestmark = pytest.mark.django_db

LITERALS = [
    "2026-11-29 17:12:31.123456+00",
    "2026-11-29 10:00:00.5+05:30",
    "1999-12-31 23:59:59-05",
    "2026-03-29 01:30:00+01",  # the hour a European clock skips
    "2026-11-01 01:30:00-04",  # the hour an American clock repeats
    "1970-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the loader is PostgreSQL's")
    connection.ensure_connection()
    return connection.connection


def read_instants() -> list[dt.datetime]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT v::timestamptz FROM unnest(%s::text[]) AS v", [LITERALS])
        return [row[0] for row in cursor.fetchall()]


def test_instants_read_as_djangos_own_loader_reads_them(postgresql):
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    from config.postgresql.base import UtcInstantLoader

    timestamptz = types["timestamptz"].oid
    assert postgresql.adapters.get_loader(timestamptz, Format.TEXT) is UtcInstantLoader
    ours = read_instants()
    register_tzloader(dt.UTC, postgresql)  # what Django puts on every connection
    try:
        djangos = read_instants()
    finally:
        postgresql.adapters.register_loader("timestamptz", UtcInstantLoader)
    assert ours == djangos
    assert [value.tzinfo for value in ours] == [dt.UTC] * len(LITERALS)
    assert ours[1] == dt.datetime(2026, 11, 29, 4, 30, 0, 500000, tzinfo=dt.UTC)


def test_a_session_left_in_another_zone_still_reads_instants_in_utc(postgresql):
    expected = read_instants()
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'America/New_York'")  # undone with the test's transaction
    moved = read_instants()
    assert moved == expected
    assert [value.tzinfo for value in moved] == [dt.UTC] * len(LITERALS)
