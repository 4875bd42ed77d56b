"""What each plan includes. No payment is processed: see docs/billing.md."""

from dataclasses import dataclass

from .models import Plan


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
