"""Which mails a member wants: their own choice, for the account they are in."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ..actors import Actor
from ..authorization import CapabilityMissing
from ..models import Account, Membership

ONLY_MEMBERS = _("Only members of the account choose which mails they get.")


@transaction.atomic
def membership_visit_mails_set(*, actor: Actor, account: Account, on: bool) -> Membership:
    """Turn the "support entered your account" mails on or off for the actor themselves."""
    if actor.is_representative or actor.account.pk != account.pk:
        raise CapabilityMissing(ONLY_MEMBERS)
    membership = Membership.objects.select_for_update().get(user=actor.user, account=account)
    membership.visit_mails = on
    membership.save(update_fields=["visit_mails"])
    return membership
