"""Changing the plan. No payment is processed here (docs/billing.md)."""

from django.db import transaction
from django.utils.translation import gettext_lazy

from ..actors import Actor
from ..authorization import require_capability
from ..errors import ApplicationError
from ..models import Account, Plan, PlanChange
from ..plans import plan_change_refusal, plan_details
from ..roles import Capability

UNKNOWN_PLAN = gettext_lazy("There is no such plan. Choose Free, Growth or Pro.")


@transaction.atomic
def plan_change(*, account: Account, actor: Actor, plan: str) -> PlanChange | None:
    """Move the account to `plan`; refused (ApplicationError) when what the account holds would not
    fit, say more profiles than the plan allows."""
    require_capability(actor, account, Capability.CHANGE_PLAN)
    if plan not in Plan.values:
        raise ApplicationError(UNKNOWN_PLAN)
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.plan == plan:
        return None
    refusal = plan_change_refusal(account=account, plan=plan_details(plan))
    if refusal:
        raise ApplicationError(refusal)
    change = PlanChange.objects.create(
        account=account, from_plan=account.plan, to_plan=plan, changed_by=actor.user
    )
    account.plan = plan
    account.save(update_fields=["plan"])
    return change
