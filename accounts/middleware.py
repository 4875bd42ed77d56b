import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from .actors import MemberActor
from .context import context_of
from .selectors import membership_for_session
from .services.mfa import user_has_mfa

SESSION_ACCOUNT_KEY = "account_id"
STAFF_SESSION_EXPIRED = _("Your staff session has expired. Sign in again to go on.")


class CurrentAccountMiddleware:
    """Put the current account and its member actor on `request.latchkey`.

    During a support visit the visit middleware (earlier in the chain) has already put a
    representative there; then this one leaves it alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = context_of(request)
        if context.actor is None and request.user.is_authenticated:
            membership = membership_for_session(
                user=request.user, account_id=request.session.get(SESSION_ACCOUNT_KEY)
            )
            if membership is not None:
                context.actor = MemberActor.for_membership(
                    user=request.user, account=membership.account, role=membership.role
                )
                context.account = membership.account
                # An account that requires two-factor sends members without it to set it up
                # before anything else (see authorization.check_capability).
                context.mfa_setup_required = membership.account.require_mfa and not (
                    user_has_mfa(user=request.user)
                )
        return self.get_response(request)


AUTHENTICATED_AT = "authenticated_at"
STAFF_LAST_SEEN = "staff_last_seen"


class StaffSessionTimeoutMiddleware:
    """Staff sessions end after STAFF_SESSION_IDLE without a request, and STAFF_SESSION_MAX
    after sign-in, whatever they do. Merchant sessions keep Django's usual lifetime."""

    # Write the last-seen time at most this often: not a session save on every request.
    TOUCH_EVERY = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.is_staff:
            now = time.time()
            last_seen = request.session.get(STAFF_LAST_SEEN, now)
            signed_in = request.session.get(AUTHENTICATED_AT, now)
            idle = now - last_seen > settings.STAFF_SESSION_IDLE.total_seconds()
            too_long = now - signed_in > settings.STAFF_SESSION_MAX.total_seconds()
            if idle or too_long:
                logout(request)
                messages.info(request, STAFF_SESSION_EXPIRED)
                return redirect_to_login(request.get_full_path())
            if now - request.session.get(STAFF_LAST_SEEN, 0) > self.TOUCH_EVERY:
                request.session[STAFF_LAST_SEEN] = now
        return self.get_response(request)
