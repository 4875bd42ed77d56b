"""What audience needs a plan to fit; registered with billing at ready() (AudienceConfig)."""

from django.utils.translation import gettext as _

from accounts.models import Account
from accounts.plans import PlanDetails

from .models import Profile


def profiles_fit_the_plan(account: Account, plan: PlanDetails) -> str | None:
    """A plan never holds fewer profiles than the account has."""
    count = Profile.objects.filter(account=account).count()
    if count <= plan.profile_limit:
        return None
    return _(
        "You have %(count)s profiles; the %(plan)s plan allows %(limit)s. "
        "Delete %(extra)s profiles first, or choose a bigger plan."
    ) % {
        "count": f"{count:,}",
        "plan": plan.label,
        "limit": f"{plan.profile_limit:,}",
        "extra": f"{count - plan.profile_limit:,}",
    }
