from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.errors import ApplicationError

from ..authorization import requires
from ..http import say_in_panel, show_error
from ..models import PlanChange
from ..plans import PLAN_ORDER, PLANS
from ..roles import Capability
from ..services.billing import plan_change
from ..sudo import sudo_required

CHANGE_PLAN_ACTION = gettext_lazy("change the plan")


@requires(Capability.VIEW_ACCOUNT)
@require_http_methods(["GET"])
def settings_billing(request: HttpRequest) -> HttpResponse:
    account = request.latchkey.account
    return render(
        request,
        "accounts/settings_billing.html",
        {
            "active_tab": "billing",
            "current": PLANS[account.plan],
            "plans": [PLANS[plan] for plan in PLAN_ORDER],
            "can_change": request.latchkey.actor.can(Capability.CHANGE_PLAN),
            "history": PlanChange.objects.filter(account=account).select_related("changed_by")[:20],
        },
    )


@requires(Capability.CHANGE_PLAN)
@require_http_methods(["GET", "POST"])
@sudo_required(CHANGE_PLAN_ACTION)
def billing_change(request: HttpRequest, plan: str) -> HttpResponse:
    if plan not in PLANS:
        raise Http404
    current, target = PLANS[request.latchkey.account.plan], PLANS[plan]
    if request.method == "POST":
        try:
            plan_change(account=request.latchkey.account, actor=request.latchkey.actor, plan=plan)
        except ApplicationError as error:
            show_error(request, error, panel="billing")
        else:
            say_in_panel(
                request, "billing", _("You are now on the %(plan)s plan.") % {"plan": target.label}
            )
        return redirect(reverse("accounts:settings_billing") + "#billing")
    return render(
        request,
        "accounts/billing_change.html",
        {
            "active_tab": "billing",
            "current": current,
            "target": target,
            "upgrade": PLAN_ORDER.index(target.plan) > PLAN_ORDER.index(current.plan),
        },
    )
