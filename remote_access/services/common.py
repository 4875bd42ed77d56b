"""What every remote-access service shares: user-facing errors and the audit row."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.models import Account, User

from ..models import AccessEvent, RemoteAccessGrant, RepresentativeSession

REMOTE_ACCESS_OFF = gettext_lazy(
    "Remote access is turned off for this account. Contact support to turn it back on."
)
GRANT_CHANGED_MEANWHILE = gettext_lazy(
    "Support access changed while you were on this page, so nothing was saved. "
    "Check the current access below and try again if you still want to change it."
)
NOTHING_TO_REMOVE = gettext_lazy("That access had already ended, so there was nothing to remove.")


def lock_account(account: Account) -> Account:
    return Account.objects.select_for_update().get(pk=account.pk)


def event_record(
    *,
    account: Account,
    kind: str,
    summary: str,
    actor: Actor | None = None,
    staff_user: User | None = None,
    grant: RemoteAccessGrant | None = None,
    session: RepresentativeSession | None = None,
    created_at: dt.datetime | None = None,
) -> AccessEvent:
    """Append one row to the account's access history. `actor` is whoever acted on the
    merchant site; `staff_user` is vendor staff acting from the admin."""
    if actor is not None:
        user, description = actor.user, actor.description
    elif staff_user is not None:
        user, description = staff_user, f"{staff_user.full_name} <{staff_user.email}> (staff)"
    else:
        user, description = None, ""
    return AccessEvent.objects.create(
        account=account,
        kind=kind,
        summary=summary[:500],
        actor=user,
        actor_description=description,
        grant=grant,
        session=session,
        created_at=created_at or timezone.now(),
    )
