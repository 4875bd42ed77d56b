"""Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a reused connection at the start of every request by
sending `SELECT 1`: one of the four round trips an empty signed-in page made
(docs/performance.md). An idle connection in autocommit has nothing to read from the
server; when the server ends it (a restart, `pg_terminate_backend`, a dropped link), its
socket becomes readable (the closing message, or end of file). So: a connection is usable
iff psycopg has not closed it, it is idle, and its socket has nothing waiting — checked
with a zero-timeout `poll`, no query. Anything unusual falls back to Django's own check.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
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
