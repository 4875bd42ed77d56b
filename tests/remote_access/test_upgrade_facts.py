"""The upgrade to events as facts keeps every old row readable, in the new words."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from remote_access.events import describe
from remote_access.models import AccessEvent, RepresentativeSession
from remote_access.timefmt import grant_end_phrase
from tests.accounts.factories import StaffUserFactory
from tests.remote_access.factories import GrantFactory, SupportRequestFactory

BEFORE = [("remote_access", "0011_just_in_time_access")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def old_row(account, kind, summary, *, actor=None, grant=None, visit=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO remote_access_accessevent
                (account_id, kind, summary, actor_id, actor_description, grant_id, session_id,
                 created_at)
            VALUES (%s, %s, %s, %s, '', %s, %s, %s)
            """,
            [
                account.pk,
                kind,
                summary,
                actor.pk if actor else None,
                grant.pk if grant else None,
                visit.pk if visit else None,
                timezone.now(),  # not SQL's now(): SQLite has none
            ],
        )


@pytest.mark.django_db(transaction=True)
def test_migration__old_sentences_become_facts(account, owner):
    support_request = SupportRequestFactory(account=account, requested_by=owner)
    grant = GrantFactory(account=account, granted_by=owner, support_request=support_request)
    staff = StaffUserFactory(full_name="Sam Support")
    visit = RepresentativeSession.objects.create(
        staff_user=staff,
        account=account,
        grant=grant,
        team="onboarding",
        ticket_reference="4411",
        ended_at=grant.granted_at,
        end_reason="revoked",
    )
    migrate(BEFORE)
    try:
        rows = [
            ("granted", "Olivia Owner granted access for 7 days with support request #1", owner),
            ("session_started", "Sam from Onboarding entered the account — ticket #4411", staff),
            ("action_performed", "Sam changed the account settings (name)", staff),
            ("action_performed", "Sam submitted /settings/", staff),
            ("action_blocked", "Sam was refused: change the billing plan", staff),
            ("session_ended", "A support visit ended: access was removed", None),
            ("remote_access_disabled", "Casey turned remote access off: asked by phone", staff),
        ]
        for kind, summary, actor in rows:
            in_visit = kind.startswith(("session", "action"))
            old_row(
                account, kind, summary, actor=actor, grant=grant, visit=visit if in_visit else None
            )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    events = AccessEvent.objects.filter(account=account).order_by("id")
    assert [describe(event) for event in events] == [
        f"Olivia Owner granted access for 7 days ({grant_end_phrase(grant)}) "
        f"with support request #{support_request.pk}",
        "Sam from Onboarding entered the account — ticket #4411",
        "Sam changed the account settings (name)",
        "Sam submitted POST /settings/",
        "Sam tried to change the billing plan — refused",
        "Sam from Onboarding's visit ended: access was removed",
        "Sam Support turned remote access off: asked by phone",
    ]
    assert events.get(kind="granted").actor_role == "owner"
