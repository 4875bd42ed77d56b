"""What the merchant does about a support visit: end it at once, and remove access too."""

import contextlib

from django.db import transaction
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.authorization import require_capability
from accounts.errors import ApplicationError
from accounts.models import Account
from accounts.roles import Capability

from ..models import RepresentativeSession
from .grants import access_remove
from .visits import visit_end

EndReason = RepresentativeSession.EndReason


VISIT_ALREADY_ENDED = gettext_lazy("That support visit has already ended.")


@transaction.atomic
def visit_end_by_merchant(
    *, account: Account, actor: Actor, visit_id: int, remove_access: bool = False
) -> RepresentativeSession:
    """An Owner or Admin ends a support visit at once (the notice's End visit, the mail's
    link); with `remove_access`, the grant it came in on ends too. The representative's
    next request is refused and lands in admin with the reason."""
    require_capability(actor, account, Capability.MANAGE_REMOTE_ACCESS)
    visit = (
        RepresentativeSession.objects.select_for_update(of=("self",))
        .select_related("staff_user", "account", "grant")
        .filter(account=account, pk=visit_id)
        .first()
    )
    if visit is None:
        raise ApplicationError(VISIT_ALREADY_ENDED)
    ended = visit_end(visit=visit, reason=EndReason.ENDED_BY_MERCHANT)
    if remove_access:
        with contextlib.suppress(ApplicationError):  # access had ended: nothing to remove
            access_remove(account=account, actor=actor, grant_id=visit.grant_id)
    elif not ended:
        raise ApplicationError(VISIT_ALREADY_ENDED)
    return visit
