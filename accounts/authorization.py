"""The one guard every merchant view goes through.

Every view of the merchant site declares who may reach it, with exactly one of:
- `@requires(capability, unsafe=...)`: a member (or representative) of the current account
  whose actor has `capability`, and `unsafe` as well for POST and other unsafe methods;
- `@no_account`: anyone signed in, whatever their account (one's own profile, switching);
- `@public`: anyone, signed in or not (signing in, accepting an invitation);
- `@own_sign_in`: anyone signed in, acting as themselves (one's profile, two-factor and
  sessions); never a support representative during a visit.

The declaration is kept on the view as `view.access` (a `ViewAccess`), which the tests walk.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from .actors import Actor
from .context import context_of
from .errors import ApplicationError
from .models import Account
from .roles import Capability

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OWN_SIGN_IN_DURING_VISIT = _(
    "Support representatives can't open their own profile or change their own sign-in "
    "during a support visit. Exit the visit first, then come back here from admin."
)
MFA_REQUIRED = _(
    "This account requires two-factor sign-in. Set it up with your authenticator app to go on."
)


def capabilities_needed(
    method: str, capability: Capability, unsafe: Capability | None
) -> list[Capability]:
    """In the order they are checked: the first one missing gives the refusal's words."""
    if method in SAFE_METHODS:
        return [capability]
    # MAKE_CHANGES last, so that a restricted action is refused with its own reason.
    return [capability, *([unsafe] if unsafe is not None else []), Capability.MAKE_CHANGES]


def check_capability(
    request: HttpRequest, capability: Capability, unsafe: Capability | None = None
) -> HttpResponse | None:
    """Return the refusal for this request, or None when the actor may go on."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    context = context_of(request)
    actor = context.actor
    if actor is None:
        return render(request, "accounts/no_account.html", status=403)
    if context.mfa_setup_required:
        messages.info(request, MFA_REQUIRED)
        return redirect("accounts:mfa_setup")
    for needed in capabilities_needed(request.method, capability, unsafe):
        if not actor.can(needed):
            return refuse(request, needed)
    return None


def refuse(
    request: HttpRequest, capability: Capability, *, message: str | None = None
) -> HttpResponse:
    """The 403 page for an actor who lacks `capability` (`message` in place of the actor's
    own words). The actor records the refusal where it must be recorded (a
    representative's lands in the merchant's access history), and that row is this
    request's only one."""
    context = context_of(request)
    context.actor.record_refusal(capability)
    context.audited = False  # the refusal is this request's row in any audit
    return render_refusal(request, message or context.actor.denial_message(capability))


def render_refusal(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "accounts/capability_denied.html", {"message": message}, status=403)


def describe_action(request: HttpRequest, summary: str) -> None:
    """Say in plain words what a successful POST did ("changed the account settings").

    Whoever audits the request (remote_access, for a support representative) writes it down.
    """
    context_of(request).action_summary = summary


@dataclass(frozen=True)
class ViewAccess:
    """Who may reach a view: see the module's docstring."""

    sign_in: bool = True
    capability: Capability | None = None
    unsafe: Capability | None = None


def _declare(view: Callable, access: ViewAccess) -> Callable:
    view.access = access
    return view


def requires(capability: Capability, *, unsafe: Capability | None = None) -> Callable:
    """Guard a view: `capability` for every method, plus `unsafe` for POST and friends."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            refusal = check_capability(request, capability, unsafe)
            if refusal is not None:
                return refusal
            return view(request, *args, **kwargs)

        return _declare(guarded, ViewAccess(capability=capability, unsafe=unsafe))

    return decorator


def no_account(view: Callable) -> Callable:
    """Signed in is enough: the view belongs to the person, not to an account."""
    return _declare(login_required(view), ViewAccess())


def own_sign_in(view: Callable) -> Callable:
    """Signed in, acting as oneself: the view belongs to the person (their profile, their
    second factor, their sessions), not to an account. A representative during a support visit
    is refused and the refusal recorded, as for a restricted action: the browser of a visit
    must never be able to change the staff user's own sign-in."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        actor = context_of(request).actor
        if actor is not None and not actor.can(Capability.CHANGE_OWN_SIGN_IN):
            return refuse(request, Capability.CHANGE_OWN_SIGN_IN, message=OWN_SIGN_IN_DURING_VISIT)
        return view(request, *args, **kwargs)

    return _declare(login_required(guarded), ViewAccess(capability=Capability.CHANGE_OWN_SIGN_IN))


def public(view: Callable) -> Callable:
    """Anyone may reach the view, signed in or not; it guards itself (a token, a pending
    sign-in)."""
    return _declare(view, ViewAccess(sign_in=False))


class CapabilityMissing(ApplicationError, PermissionDenied):
    """A service refused its caller. Also a PermissionDenied, so that a view that forgot its
    own check still answers 403, never 500."""


def require_capability(actor: Actor, account: Account, capability: Capability) -> None:
    """For services: refuse an actor of another account, or one without the capability.

    Views check first; services check again so that no caller can forget.
    """
    if actor.account.pk != account.pk or not actor.can(capability):
        raise CapabilityMissing(actor.denial_message(capability))
