"""Support visits: staff entering a merchant account on its live grant, and leaving it.

A visit is stored as a `RepresentativeSession` (the model's name is fixed by DESIGN §4); in
code, templates and docs it is a *visit*.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.errors import ApplicationError
from accounts.models import Account, User

from .. import rules
from ..mail import visit_started_mail_enqueue
from ..models import AccessEvent, RemoteAccessGrant, RepresentativeSession
from ..selectors import live_condition, staff_team
from .common import event_record

EndReason = RepresentativeSession.EndReason

ALREADY_ENTERING = gettext_lazy(
    "You are entering another account in another tab at this very moment. Try again."
)


@transaction.atomic
def visit_start(
    *,
    account: Account,
    staff_user: User,
    ticket_reference: str,
    note: str = "",
    source_ip: str | None = None,
    user_agent: str = "",
) -> RepresentativeSession:
    """Open a visit on the account's live grant, whose row stays locked until the visit and
    its event are written: a removal cannot slip in between.

    A visit the same staff user left open (a closed browser, another device) ends first, so
    nobody is locked out by a tab they can no longer reach."""
    if not rules.staff_may_enter(staff_user):
        raise ApplicationError(rules.CANNOT_ENTER)
    if not ticket_reference.strip():
        raise ApplicationError(rules.TICKET_REQUIRED, field="ticket_reference")
    grant = (
        RemoteAccessGrant.objects.select_for_update()
        .filter(live_condition(), account=account)
        .first()
    )
    if grant is None:
        raise ApplicationError(rules.NO_LIVE_GRANT)
    account = Account.objects.get(pk=account.pk)
    if account.remote_access_disabled:
        raise ApplicationError(rules.TURNED_OFF_FOR_STAFF)
    for left_open in RepresentativeSession.objects.select_for_update().filter(
        staff_user=staff_user, ended_at__isnull=True
    ):
        visit_end(visit=left_open, reason=EndReason.ABANDONED)
    visit = RepresentativeSession(
        staff_user=staff_user,
        account=account,
        grant=grant,
        team=staff_team(user=staff_user),
        ticket_reference=ticket_reference.strip(),
        note=note.strip(),
        source_ip=source_ip,
        user_agent=user_agent[:300],
    )
    visit.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError as error:  # the one-open-visit constraint: a concurrent entry won
        raise ApplicationError(ALREADY_ENTERING) from error
    event_record(
        account=account,
        kind=AccessEvent.Kind.SESSION_STARTED,
        staff_user=staff_user,
        team=visit.team,
        grant=grant,
        session=visit,
    )
    visit_started_mail_enqueue(visit=visit)
    return visit


def visit_end(*, visit: RepresentativeSession, reason: str, at: dt.datetime | None = None) -> bool:
    """End an open visit and log why. Returns False if it had already ended.

    Callers: the staff user leaving (Exit, signing out), the visit middleware noticing the
    visit may not go on, and `grant_end`. Each is the visit's own staff user or a service
    that already checked its caller, so there is no one else to check here."""
    with transaction.atomic():
        ended = RepresentativeSession.objects.filter(pk=visit.pk, ended_at__isnull=True).update(
            ended_at=at or timezone.now(), end_reason=reason
        )
        if not ended:
            return False
        visit.refresh_from_db(fields=["ended_at", "end_reason"])
        event_record(
            account=visit.account,
            kind=AccessEvent.Kind.SESSION_ENDED,
            staff_user=visit.staff_user,
            team=visit.team,
            grant=visit.grant,
            session=visit,
            payload={"reason": reason},
            created_at=visit.ended_at,
        )
    return True


def visits_end_for_grant(
    *, grant: RemoteAccessGrant, reason: str, at: dt.datetime | None = None
) -> int:
    """End every open visit on a grant that just stopped being live (inside its transaction)."""
    visits = list(
        RepresentativeSession.objects.select_related("staff_user", "account", "grant").filter(
            grant=grant, ended_at__isnull=True
        )
    )
    return sum(visit_end(visit=visit, reason=reason, at=at) for visit in visits)
