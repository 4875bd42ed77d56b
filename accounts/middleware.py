from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .actors import MemberActor
from .selectors import membership_for_session
from .services.mfa import user_has_mfa

SESSION_ACCOUNT_KEY = "account_id"


class CurrentAccountMiddleware:
    """Put the current account and actor on the request.

    Another middleware placed before this one (remote_access's representative middleware)
    may already have set an actor; then this one leaves it alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(request, "actor", None) is None:
            request.actor = None
            request.account = None
            if request.user.is_authenticated:
                membership = membership_for_session(
                    user=request.user, account_id=request.session.get(SESSION_ACCOUNT_KEY)
                )
                if membership is not None:
                    request.actor = MemberActor.for_membership(
                        user=request.user, account=membership.account, role=membership.role
                    )
                    request.account = membership.account
                    # An account that requires two-factor sends members without it to set
                    # it up before anything else (see authorization.check_capability).
                    request.mfa_setup_required = membership.account.require_mfa and not (
                        user_has_mfa(user=request.user)
                    )
        return self.get_response(request)
