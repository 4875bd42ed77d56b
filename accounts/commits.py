"""Writes that may commit without waiting for the disk.

PostgreSQL's `synchronous_commit = off` (for one transaction) answers a commit once the
write-ahead log has the change in memory, before it is flushed: a crash of the database
server can lose the last fraction of a second of such commits (at most three times
`wal_writer_delay`, 600 ms by default), never corrupt anything or lose other commits.
Used only for the page-view rows of support visits (remote_access.middleware), where waiting
for the disk was most of what a representative's page cost over an Admin's
(docs/performance.md); every other write waits as usual.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

from .compiled import PreparedPipeline

# The setting for the current transaction only (`SET LOCAL`, which PostgreSQL would warn
# about in a pipeline's implicit transaction block).
RELAXED = "SELECT set_config('synchronous_commit', 'off', true)"


@contextmanager
def commit_without_waiting(using: str = "default") -> Iterator[None]:
    """Statements run in here, each its own transaction (autocommit), commit without
    waiting for the disk. Inside a transaction this changes nothing: its other writes
    must not lose their durability."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return

    def relaxed(execute, sql, params, many, context):
        # Only a statement that is its own transaction: one the block runs inside `atomic()`
        # belongs to a transaction whose other writes must wait for the disk.
        if connection.in_atomic_block or not connection.get_autocommit():
            return execute(sql, params, many, context)
        # In the statement's own transaction: PostgreSQL runs a pipeline, or the statements
        # of one query message, as one implicit transaction, and the setting holds for its
        # commit only.
        pipeline = context["cursor"].cursor
        if isinstance(pipeline, PreparedPipeline):  # a compiled statement (CompiledInsert)
            pipeline.leading.append((RELAXED, []))
            return execute(sql, params, many, context)
        # After the statement, in the same query message, so that the statement's own
        # result (an INSERT's RETURNING) stays the cursor's first.
        return execute(f"{sql}; {RELAXED}", params, many, context)

    with connection.execute_wrapper(relaxed):
        yield
