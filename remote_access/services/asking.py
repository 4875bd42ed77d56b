"""A Manager or Analyst asking the account's Owners and Admins to grant support access."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.authorization import require_capability
from accounts.errors import ApplicationError
from accounts.models import Account
from accounts.roles import Capability

from ..mail import access_ask_mail_enqueue
from ..models import AccessEvent
from .common import REMOTE_ACCESS_OFF, event_record, lock_account

# One ask per person per quarter hour: enough to nudge, not enough to flood anyone's inbox.
ASK_INTERVAL = dt.timedelta(minutes=15)
ASKED_RECENTLY = format_lazy(
    gettext_lazy(
        "You asked less than {minutes} minutes ago; the Owners and Admins have your message. "
        "Ask again later if nobody has answered."
    ),
    minutes=int(ASK_INTERVAL.total_seconds() // 60),
)
ASK_GRANT_YOURSELF = gettext_lazy("You can grant access yourself, below.")
ASK_NOT_FOR_SUPPORT = gettext_lazy("Support staff can't ask for access from inside the account.")


@transaction.atomic
def access_ask(*, account: Account, actor: Actor) -> AccessEvent:
    """Record the ask in the access history and mail the Owners and Admins, once.

    The rate limit is read from the history itself, under the account's row lock, so two
    clicks at once still send one mail and a cache outage does not lift the limit.
    """
    require_capability(actor, account, Capability.CONTACT_SUPPORT)
    if actor.is_representative:
        raise ApplicationError(ASK_NOT_FOR_SUPPORT)
    if actor.can(Capability.MANAGE_REMOTE_ACCESS):
        raise ApplicationError(ASK_GRANT_YOURSELF)
    account = lock_account(account)
    if account.remote_access_disabled:
        raise ApplicationError(REMOTE_ACCESS_OFF)
    now = timezone.now()
    asked_recently = AccessEvent.objects.filter(
        account=account,
        kind=AccessEvent.Kind.ACCESS_ASKED,
        actor=actor.user,
        created_at__gt=now - ASK_INTERVAL,
    ).exists()
    if asked_recently:
        raise ApplicationError(ASKED_RECENTLY)
    event = event_record(
        account=account,
        kind=AccessEvent.Kind.ACCESS_ASKED,
        actor=actor,
        created_at=now,
    )
    access_ask_mail_enqueue(event=event)
    return event
