"""The upgrade to the outbox loses no "access has ended" notice that was still owed."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from outbox.models import OutboxMessage
from remote_access.models import RemoteAccessGrant
from tests.remote_access.factories import GrantFactory

BEFORE = [("remote_access", "0008_single_line_text")]
AFTER = [("remote_access", "0009_expiry_notices_via_outbox")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_migration__owed_expiry_notices_move_to_the_outbox():
    now = timezone.now()
    owed = GrantFactory(
        granted_at=now - dt.timedelta(days=8),
        expires_at=now - dt.timedelta(hours=1),
        status=RemoteAccessGrant.Status.EXPIRED,
        ended_at=now - dt.timedelta(hours=1),
    )
    GrantFactory(  # long over: the old code had given up on it
        granted_at=now - dt.timedelta(days=40),
        expires_at=now - dt.timedelta(days=30),
        status=RemoteAccessGrant.Status.EXPIRED,
        ended_at=now - dt.timedelta(days=30),
    )
    migrate(BEFORE)
    try:
        migrate(AFTER)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    rows = list(OutboxMessage.objects.values_list("kind", "payload", "rendered"))
    assert rows == [("access_expired", {"grant_id": owed.pk}, False)]
