import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from .actors import MemberActor
from .backends import plan_reads, reset_planned_reads
from .context import context_of
from .selectors import memberships_for_request
from .services.mfa import user_has_mfa

SESSION_ACCOUNT_KEY = "account_id"
STAFF_SESSION_EXPIRED = _("Your staff session has expired. Sign in again to go on.")


class SessionReadsMiddleware:
    """Before anything loads the session: plan what this request reads with its user, so
    that it comes in the session's round trip when it can (accounts.backends.plan_reads)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = plan_reads(request)
        try:
            return self.get_response(request)
        finally:
            reset_planned_reads(token)


class PlainUserMiddleware:
    """Put the signed-in user itself on `request.user`, instead of the two lazy proxies
    around it (Django's, and django-otp's around that).

    Every request reads its user at once anyway (SessionTimeoutMiddleware), so deferring
    the read saves nothing, while each of the tens of reads a page makes of the user went
    through both proxies (building a page view's audit row: 57 → 44 µs in a request)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = resolved(request.user)
        return self.get_response(request)


def resolved(obj):
    """The object behind lazy proxies (django.utils.functional.LazyObject), set up if not yet."""
    while isinstance(obj, LazyObject):
        if obj._wrapped is empty:
            obj._setup()
        obj = obj._wrapped
    return obj


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
            kept = request.session.get(SESSION_ACCOUNT_KEY)
            membership, context.memberships = memberships_for_request(
                user=request.user, account_id=kept
            )
            if membership is not None and membership.account_id != kept:
                # Kept from the first page after signing in (or after losing the account
                # kept): the next requests read the pages' own reads with the session,
                # which are planned from the account it holds (accounts.backends).
                request.session[SESSION_ACCOUNT_KEY] = membership.account_id
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
# The session key is still named for staff, who had the only timeout once: renaming it would
# sign every staff user out at deploy.
LAST_SEEN = "staff_last_seen"
STAFF_LAST_SEEN = LAST_SEEN
SESSION_EXPIRED = _("You were signed out after a long time away, to keep your account safe.")


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta  # without a request
    max: timedelta  # after signing in, however busy
    message: str


def session_limits(user) -> SessionLimits:
    """Staff have short limits; everyone else Django-session-sized ones (settings)."""
    if user.is_staff:
        return SessionLimits(
            settings.STAFF_SESSION_IDLE, settings.STAFF_SESSION_MAX, STAFF_SESSION_EXPIRED
        )
    return SessionLimits(settings.SESSION_IDLE, settings.SESSION_MAX, SESSION_EXPIRED)


class SessionTimeoutMiddleware:
    """A signed-in session ends after its idle limit without a request, and after its absolute
    limit since sign-in whatever the person does: one middleware, two sets of limits
    (`session_limits`). A session that predates these limits starts its clocks now."""

    # Write the last-seen time at most this often: not a session save on every request.
    TOUCH_EVERY = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            limits = session_limits(request.user)
            now = time.time()
            session = request.session
            idle = now - session.setdefault(LAST_SEEN, now) > limits.idle.total_seconds()
            too_long = now - session.setdefault(AUTHENTICATED_AT, now) > limits.max.total_seconds()
            if idle or too_long:
                logout(request)
                messages.info(request, limits.message)
                return redirect_to_login(request.get_full_path())
            if now - session[LAST_SEEN] > self.TOUCH_EVERY:
                session[LAST_SEEN] = now
        return self.get_response(request)
