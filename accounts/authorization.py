"""The one guard every merchant view goes through: `requires` and `CapabilityRequiredMixin`."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from .actors import Actor
from .models import Account
from .roles import Capability
from .signals import capability_denied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MFA_REQUIRED = _(
    "This account requires two-factor sign-in. Set it up with your authenticator app to go on."
)


def capabilities_needed(
    method: str, capability: Capability, unsafe: Capability | None
) -> list[Capability]:
    if unsafe is not None and method not in SAFE_METHODS:
        return [capability, unsafe]
    return [capability]


def check_capability(
    request: HttpRequest, capability: Capability, unsafe: Capability | None = None
) -> HttpResponse | None:
    """Return the refusal for this request, or None when the actor may go on."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    actor = request.actor
    if actor is None:
        return render(request, "accounts/no_account.html", status=403)
    if getattr(request, "mfa_setup_required", False):
        messages.info(request, MFA_REQUIRED)
        return redirect("accounts:mfa_setup")
    for needed in capabilities_needed(request.method, capability, unsafe):
        if not actor.can(needed):
            return refuse(request, needed)
    return None


def refuse(request: HttpRequest, capability: Capability) -> HttpResponse:
    """The 403 page for an actor who lacks `capability`; tells listeners (the audit trail)."""
    actor = request.actor
    capability_denied.send(sender=type(actor), request=request, actor=actor, capability=capability)
    return render_refusal(request, actor.denial_message(capability))


def render_refusal(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "accounts/capability_denied.html", {"message": message}, status=403)


def describe_action(request: HttpRequest, summary: str) -> None:
    """Say in plain words what a successful POST did ("changed the account settings").

    Whoever audits the request (remote_access, for a support representative) writes it down.
    """
    request.action_summary = summary


def requires(capability: Capability, *, unsafe: Capability | None = None) -> Callable:
    """Guard a view: `capability` for every method, plus `unsafe` for POST and friends."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            refusal = check_capability(request, capability, unsafe)
            if refusal is not None:
                return refusal
            return view(request, *args, **kwargs)

        guarded.required_capability = capability
        guarded.required_capability_unsafe = unsafe
        return guarded

    return decorator


class CapabilityRequiredMixin:
    required_capability: Capability
    required_capability_unsafe: Capability | None = None

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refusal = check_capability(
            request, self.required_capability, self.required_capability_unsafe
        )
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)


def require_capability(actor: Actor, account: Account, capability: Capability) -> None:
    """For services: refuse an actor of another account, or one without the capability.

    Views check first; services check again so that no caller can forget.
    """
    if actor.account.pk != account.pk or not actor.can(capability):
        raise PermissionDenied(actor.denial_message(capability))
