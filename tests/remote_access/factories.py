import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from remote_access.models import (
    AccessEvent,
    AccessRequest,
    Duration,
    RemoteAccessGrant,
    RepresentativeSession,
    SupportRequest,
    Team,
)
from tests.accounts.factories import AccountFactory, StaffUserFactory, UserFactory
from tests.transactions import transaction_held_open


class SupportRequestFactory(DjangoModelFactory[SupportRequest]):
    class Meta:
        model = SupportRequest

    account = factory.SubFactory(AccountFactory)
    requested_by = factory.SubFactory(UserFactory)
    team = Team.SUPPORT
    subject = "Segments show the wrong count"
    message = "Since this morning the VIP segment shows 0 members."


class GrantFactory(DjangoModelFactory[RemoteAccessGrant]):
    """An active 7-day grant saved now; pass granted_at/expires_at for other shapes."""

    class Meta:
        model = RemoteAccessGrant

    account = factory.SubFactory(AccountFactory)
    granted_by = factory.SubFactory(UserFactory)
    granted_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda grant: grant.granted_at + dt.timedelta(days=7))
    duration = Duration.SEVEN_DAYS
    status = RemoteAccessGrant.Status.ACTIVE


class AccessEventFactory(DjangoModelFactory[AccessEvent]):
    class Meta:
        model = AccessEvent

    account = factory.SubFactory(AccountFactory)

    class Params:
        # The words of a representative's action: a kind whose sentence carries free text.
        summary = factory.Sequence(lambda n: f"changed the settings ({n})")

    kind = AccessEvent.Kind.ACTION_PERFORMED
    method = "POST"
    payload = factory.LazyAttribute(lambda event: {"action": event.summary})
    created_at = factory.LazyFunction(timezone.now)


@contextmanager
def event_committed_late(*, account, summary: str) -> Iterator[None]:
    """An event another transaction writes before the block and commits after it: its id is
    taken first, yet events the block writes are seen before it (PostgreSQL: a thread with
    its own connection)."""
    with transaction_held_open(lambda: AccessEventFactory(account=account, summary=summary)):
        yield


class RepresentativeSessionFactory(DjangoModelFactory[RepresentativeSession]):
    """An open visit on a live grant; prefer `visit_start` in tests of behaviour."""

    class Meta:
        model = RepresentativeSession

    grant = factory.SubFactory(GrantFactory)
    account = factory.SelfAttribute("grant.account")
    staff_user = factory.SubFactory(StaffUserFactory)
    team = Team.SUPPORT
    ticket_reference = factory.Sequence(lambda n: str(4400 + n))


def csm_user():
    """A customer success manager: staff who may enter accounts and turn remote access off."""
    from remote_access.services.staff import staff_member_set_team
    from tests.accounts.factories import StaffUserFactory

    user = StaffUserFactory()
    staff_member_set_team(user=user, team="Success", may_disable=True)
    return user


class AccessRequestFactory(DjangoModelFactory[AccessRequest]):
    """A pending request for 7 days of full access, made now; prefer `access_request_create`
    in tests of behaviour."""

    class Meta:
        model = AccessRequest

    account = factory.SubFactory(AccountFactory)
    staff_user = factory.SubFactory(StaffUserFactory)
    team = Team.SUPPORT
    ticket_reference = factory.Sequence(lambda n: str(4400 + n))
    reason = "Segment VIP shows 0 profiles"
    duration = Duration.SEVEN_DAYS
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda request: request.created_at + dt.timedelta(hours=24))
