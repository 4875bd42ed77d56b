import datetime as dt
import threading

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from accounts.actors import MemberActor
from accounts.errors import ApplicationError
from accounts.roles import Role
from remote_access.models import AccessEvent, RemoteAccessGrant
from remote_access.services import access_grant, access_remove
from tests.accounts.factories import AccountFactory, MembershipFactory
from tests.remote_access.factories import AccessEventFactory, GrantFactory

Status = RemoteAccessGrant.Status


def test_one_active_grant_per_account__held_by_the_database(account, owner):
    GrantFactory(account=account, granted_by=owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        GrantFactory(account=account, granted_by=owner)
    # Ended grants do not count.
    GrantFactory(account=account, granted_by=owner, status=Status.REPLACED)
    assert account.remote_access_grants.count() == 2


def test_grant_must_expire_after_it_was_granted(account, owner):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        GrantFactory(account=account, granted_by=owner, granted_at=now, expires_at=now)


def test_audit_rows_protect_their_account_and_user(account, owner):
    GrantFactory(account=account, granted_by=owner)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        owner.delete()
    with pytest.raises(ProtectedError):
        account.delete()


@pytest.mark.services
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE remote_access_accessevent SET path = 'edited'",
        "DELETE FROM remote_access_accessevent",
        "TRUNCATE remote_access_accessevent",
        "TRUNCATE remote_access_accessevent CASCADE",
    ],
)
def test_access_events__append_only_in_postgresql(account, statement):
    """The trigger refuses UPDATE, DELETE and TRUNCATE of access events, whoever runs them."""
    AccessEventFactory(account=account, path="original")
    with connection.cursor() as cursor:
        # Run the deferred foreign-key checks now; TRUNCATE refuses to run while they wait.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with (
        pytest.raises(ProgrammingError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AccessEvent.objects.get(account=account).path == "original"


@pytest.mark.services
def test_access_events__orm_delete_refused_in_postgresql(account):
    event = AccessEventFactory(account=account)
    with pytest.raises(ProgrammingError), transaction.atomic():
        event.delete()
    with pytest.raises(ProgrammingError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(path="rewritten")
    assert AccessEvent.objects.filter(pk=event.pk).exists()


def _run_at_once(workers):
    """Start every callable at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(workers))
    outcomes = []

    def run(work):
        try:
            barrier.wait()
            outcomes.append(work())
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_grants__leave_exactly_one_active():
    account = AccountFactory()
    actors = [
        MemberActor.for_membership(
            user=MembershipFactory(account=account, role=role).user, account=account, role=role
        )
        for role in (Role.OWNER, Role.ADMIN, Role.ADMIN, Role.OWNER)
    ]
    outcomes = _run_at_once(
        [
            lambda actor=actor: access_grant(account=account, actor=actor, duration="7d")
            for actor in actors
        ]
    )
    granted = [o for o in outcomes if isinstance(o, RemoteAccessGrant)]
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(granted) == 1, outcomes
    assert len(refused) == 3, outcomes
    assert RemoteAccessGrant.objects.filter(account=account, status=Status.ACTIVE).count() == 1
    assert AccessEvent.objects.filter(account=account).count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_replace_and_remove__never_two_active():
    account = AccountFactory()
    owner = MembershipFactory(account=account, role=Role.OWNER).user
    admin = MembershipFactory(account=account, role=Role.ADMIN).user
    as_owner = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    as_admin = MemberActor.for_membership(user=admin, account=account, role=Role.ADMIN)
    current = GrantFactory(account=account, granted_by=owner)
    _run_at_once(
        [
            lambda: access_grant(
                account=account,
                actor=as_owner,
                duration="30d",
                expected_current_grant_id=current.pk,
            ),
            lambda: access_remove(account=account, actor=as_admin, grant_id=current.pk),
        ]
    )
    active = RemoteAccessGrant.objects.filter(account=account, status=Status.ACTIVE).count()
    current.refresh_from_db()
    # Whichever came first wins; the other is refused because the grant it saw is gone.
    assert (current.status, active) in ((Status.REPLACED, 1), (Status.REVOKED, 0))
    assert AccessEvent.objects.filter(account=account).count() == 1


def test_grant_over_an_overdue_grant__logs_its_expiry_first(account, owner):
    """A grant the beat task has not tidied yet is expired (and logged) before the new one."""
    actor = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    overdue = GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=timezone.now() - dt.timedelta(days=2),
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    access_grant(account=account, actor=actor, duration="1d")
    overdue.refresh_from_db()
    assert overdue.status == Status.EXPIRED
    assert overdue.ended_at == overdue.expires_at
    kinds = list(account.access_events.order_by("created_at").values_list("kind", flat=True))
    assert kinds == [AccessEvent.Kind.EXPIRED, AccessEvent.Kind.GRANTED]


def test_service_refuses_actor_without_capability(account, analyst):
    from django.core.exceptions import PermissionDenied

    actor = MemberActor.for_membership(user=analyst, account=account, role=Role.ANALYST)
    with pytest.raises(PermissionDenied):
        access_grant(account=account, actor=actor, duration="7d")
    assert not account.remote_access_grants.exists()


def test_service_refuses_actor_of_another_account(account, other_account, other_owner):
    from django.core.exceptions import PermissionDenied

    actor = MemberActor.for_membership(user=other_owner, account=other_account, role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        access_grant(account=account, actor=actor, duration="7d")
    assert not account.remote_access_grants.exists()


def test_one_open_session_per_staff_user__held_by_the_database(db):
    from tests.remote_access.factories import RepresentativeSessionFactory

    first = RepresentativeSessionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RepresentativeSessionFactory(staff_user=first.staff_user)
    first.ended_at = timezone.now()
    first.save()
    RepresentativeSessionFactory(staff_user=first.staff_user)  # after the first ends, fine


def test_session_needs_a_ticket_reference__held_by_the_database(db):
    from tests.remote_access.factories import RepresentativeSessionFactory

    with pytest.raises(IntegrityError), transaction.atomic():
        RepresentativeSessionFactory(ticket_reference="")
