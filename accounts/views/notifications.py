from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ..authorization import requires
from ..errors import ApplicationError
from ..http import show_error
from ..roles import Capability
from ..services.notifications import membership_visit_mails_set

VISIT_MAILS_SAVED = gettext_lazy("Your mail settings are saved.")


@requires(Capability.VIEW_ACCOUNT)
@require_http_methods(["POST"])
def visit_mails(request: HttpRequest) -> HttpResponse:
    """The profile's "mail me when support enters" switch (accounts/_visit_mails_form.html)."""
    try:
        membership_visit_mails_set(
            actor=request.latchkey.actor,
            account=request.latchkey.account,
            on=request.POST.get("on") == "1",
        )
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, VISIT_MAILS_SAVED)
    return redirect("accounts:profile")
