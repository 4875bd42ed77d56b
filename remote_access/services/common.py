"""What every remote-access service shares: user-facing errors and the audit row."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.compiled import CompiledInsert
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


def actor_facts(actor: Actor | None) -> dict:
    """The actor's user and who they were at the time: a member's role, a representative's
    team."""
    if actor is None:
        return {}
    visit = getattr(actor, "session", None)
    return {
        "actor": actor.user,
        "actor_role": str(getattr(actor, "role", "") or ""),
        "actor_team": visit.team if visit is not None else "",
    }


def event_record(
    *,
    account: Account,
    kind: str,
    actor: Actor | None = None,
    staff_user: User | None = None,
    team: str = "",
    grant: RemoteAccessGrant | None = None,
    session: RepresentativeSession | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    method: str = "",
    path: str = "",
    result: int | None = None,
    payload: dict | None = None,
    created_at: dt.datetime | None = None,
    wait_for_disk: bool = True,
) -> AccessEvent:
    """Append one fact to the account's access history; its sentence is rendered when read
    (remote_access.events). `actor` is whoever acted on the merchant site; `staff_user` (with
    their `team`) is vendor staff acting from the admin. `wait_for_disk=False` lets a row that
    is its own transaction commit without waiting for the disk (accounts.commits)."""
    facts = actor_facts(actor)
    if not facts and staff_user is not None:
        facts = {"actor": staff_user, "actor_role": "", "actor_team": team}
    event = AccessEvent(
        account=account,
        kind=kind,
        grant=grant,
        session=session,
        object_type=object_type,
        object_id=str(object_id),
        object_label=object_label[:200],
        method=method,
        path=path[:300],
        result=result,
        payload=payload or {},
        created_at=created_at or timezone.now(),
        **facts,
    )
    return _EVENT_INSERT.insert(event, wait_for_disk=wait_for_disk)


# Events are written on every page a representative opens: their INSERT is built once.
_EVENT_INSERT = CompiledInsert(AccessEvent)
