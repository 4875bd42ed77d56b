"""Writes that may commit without waiting for the disk.

PostgreSQL's `synchronous_commit = off` (for one transaction) answers a commit once the
write-ahead log has the change in memory, before it is flushed: a crash of the database
server can lose the last fraction of a second of such commits (at most three times
`wal_writer_delay`, 600 ms by default), never corrupt anything or lose other commits.
Used only for the page-view rows of support visits (remote_access.middleware), where waiting
for the disk was most of what a representative's page cost over an Admin's
(docs/performance.md); every other write waits as usual.

The setting is made by the statement itself (`CompiledInsert.insert(..., wait_for_disk=
False)` puts RELAXED in its RETURNING list), so the write stays one statement in one round
trip: as a statement of its own before the INSERT, it made the write a pipeline of two,
50–70 µs more (docs/performance.md).
"""

from django.db.backends.base.base import BaseDatabaseWrapper

# For the current transaction only (is_local): PostgreSQL reads the setting when the
# transaction commits, which for a statement that is its own transaction is right after it.
RELAXED = "set_config('synchronous_commit', 'off', true)"


def may_commit_without_waiting(connection: BaseDatabaseWrapper) -> bool:
    """Whether a statement run now may relax its own commit: on PostgreSQL, and only as its
    own transaction. Inside `atomic()` it belongs to a transaction whose other writes must
    keep their durability."""
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connection.get_autocommit()
    )
