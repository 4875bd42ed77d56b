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
