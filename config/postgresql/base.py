"""Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a reused connection at the start of every request by
sending `SELECT 1`: one of the four round trips an empty signed-in page made
(docs/performance.md). An idle connection in autocommit has nothing to read from the
server; when the server ends it (a restart, `pg_terminate_backend`, a dropped link), its
socket becomes readable (the closing message, or end of file). So: a connection is usable
iff psycopg has not closed it, it is idle, and its socket has nothing waiting — checked
with a zero-timeout `poll`, no query. Anything unusual falls back to Django's own check.

And instants read at psycopg's own speed: Django reads every `timestamptz` with a loader of
its own, written in Python, to give each the connection's zone — 2.7 µs a value, against
0.4 µs for psycopg's compiled loader, which gives the same value in the same zone when the
session's zone is UTC, as Django sets it (`UtcInstantLoader`).
"""

import datetime as dt
import select

import psycopg
from django.db.backends.postgresql import base
from psycopg.adapt import Loader
from psycopg.postgres import types
from psycopg.pq import Format, TransactionStatus

# psycopg's own loader: compiled with psycopg[binary] (it cannot be subclassed).
_PSYCOPG_INSTANT_LOADER = psycopg.adapters.get_loader(types["timestamptz"].oid, Format.TEXT)


class UtcInstantLoader(Loader):
    """A `timestamptz` as an aware datetime in UTC (`datetime.timezone.utc`), what Django's
    loader gives with USE_TZ, through psycopg's loader. `timezone` is the attribute Django
    checks before it puts its own loader on a cursor (it then does not)."""

    timezone = dt.UTC

    def __init__(self, oid: int, context=None) -> None:
        super().__init__(oid, context)
        load = _PSYCOPG_INSTANT_LOADER(oid, context).load
        session_utc = self.connection is not None and self.connection.info.timezone is dt.UTC
        # psycopg gives the session's zone; only a session left in another zone needs this.
        # On the instance, so that each value costs psycopg's call alone.
        self.load = load if session_utc else (lambda data: load(data).astimezone(dt.UTC))

    def load(self, data) -> dt.datetime:  # replaced on each instance (above)
        raise NotImplementedError


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.timezone is dt.UTC:  # USE_TZ with the database in UTC: Django's own settings
            connection.adapters.register_loader("timestamptz", UtcInstantLoader)
        return connection

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()  # inside a transaction, or broken: ask the server
        try:
            # poll, not select: select cannot watch a descriptor numbered 1024 or more.
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
            events = poller.poll(0)
        except (OSError, ValueError):
            return False
        # Something to read on an idle connection means the server has spoken on its own:
        # nearly always to say goodbye. A new connection is cheap; a 500 is not.
        return not events
