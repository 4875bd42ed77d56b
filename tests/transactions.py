"""Another connection's transaction, held open while a test acts (PostgreSQL)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def transaction_held_open(
    begin: Callable[[], object], *, before_commit: Callable[[], object] | None = None
) -> Iterator[None]:
    """Run `begin` in a transaction on a thread with a connection of its own, and keep that
    transaction open while the block runs; after it, run `before_commit` in the same
    transaction and commit."""
    begun, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                begin()
                begun.set()
                release.wait(timeout=30)
                if before_commit is not None:
                    before_commit()
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert begun.wait(timeout=30), "the other transaction began"
        yield
    finally:
        release.set()
        holder.join(timeout=30)
