"""What each plan includes. No payment is processed: see docs/billing.md."""

from collections.abc import Callable
from dataclasses import dataclass

from .models import Account, Plan


@dataclass(frozen=True)
class PlanDetails:
    plan: Plan
    profile_limit: int
    monthly_price: int  # whole US dollars

    @property
    def label(self) -> str:
        return str(self.plan.label)


PLANS: dict[str, PlanDetails] = {
    Plan.FREE: PlanDetails(Plan.FREE, profile_limit=1_000, monthly_price=0),
    Plan.GROWTH: PlanDetails(Plan.GROWTH, profile_limit=25_000, monthly_price=49),
    Plan.PRO: PlanDetails(Plan.PRO, profile_limit=250_000, monthly_price=199),
}
PLAN_ORDER = [Plan.FREE, Plan.GROWTH, Plan.PRO]


def plan_details(plan: str) -> PlanDetails:
    return PLANS[plan]


# --- what must fit before a plan change ------------------------------------------------------
# Other apps own what a plan limits (audience: profiles). Each registers a check at ready()
# time; billing asks them all, in registration order (INSTALLED_APPS order), through
# `plan_change_refusal`. A check returns the refusal a person reads, or None.
PlanLimitCheck = Callable[[Account, PlanDetails], str | None]
_plan_limit_checks: list[PlanLimitCheck] = []


def plan_limit_check_register(check: PlanLimitCheck) -> None:
    if check not in _plan_limit_checks:
        _plan_limit_checks.append(check)


def plan_change_refusal(*, account: Account, plan: PlanDetails) -> str | None:
    """The first registered check that refuses moving `account` to `plan`, or None."""
    for check in _plan_limit_checks:
        refusal = check(account, plan)
        if refusal:
            return refusal
    return None
