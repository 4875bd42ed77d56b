"""Changing the plan. No payment is processed here (docs/billing.md)."""

from django.db import transaction
from django.utils.translation import gettext as _

from ..actors import Actor
from ..authorization import require_capability
from ..models import Account, Plan, PlanChange
from ..plans import plan_details
from ..roles import Capability
from ..signals import plan_change_checks
from .team import TeamError

UNKNOWN_PLAN = _("There is no such plan. Choose Free, Growth or Pro.")


@transaction.atomic
def plan_change(*, account: Account, actor: Actor, plan: str) -> PlanChange | None:
    """Move the account to `plan`; refused (TeamError) when what the account holds would not
    fit, say more profiles than the plan allows."""
    require_capability(actor, account, Capability.CHANGE_PLAN)
    if plan not in Plan.values:
        raise TeamError(UNKNOWN_PLAN)
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.plan == plan:
        return None
    details = plan_details(plan)
    for _receiver, refusal in plan_change_checks.send(
        sender=Account, account=account, plan=details
    ):
        if refusal:
            raise TeamError(refusal)
    change = PlanChange.objects.create(
        account=account, from_plan=account.plan, to_plan=plan, changed_by=actor.user
    )
    account.plan = plan
    account.save(update_fields=["plan"])
    return change
