"""Sudo mode, as GitHub and Stripe have it: a risky change needs the password (or a two-factor
code) entered in the last SUDO_MINUTES, however long ago the person signed in.

`@sudo_required(action)` guards the POST of a view. Without a recent proof the view is not
called; the person gets a prompt instead, which carries what they submitted as hidden fields
and posts it back to the same address with the password. The view then runs on exactly what
they typed, as if the prompt had never been there. This keeps CSRF (the prompt is an
ordinary form with its own token, checked again), needs no JavaScript and stores nothing in
the session but the time of the last proof.

Signing in is a proof (accounts.receivers); so is each answered prompt. A support
representative during a visit never gets sudo: nothing they typed here proves who they are
to the merchant.
"""

import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .authorization import SAFE_METHODS, render_refusal
from .context import context_of
from .errors import ApplicationError
from .forms import IdentityForm
from .http import safe_next_url, show_error
from .services.mfa import identity_verify, user_has_mfa

SUDO_AT = "sudo_at"
PREFIX = "sudo"
SUDO_NOT_FOR_REPRESENTATIVES = _(
    "Support representatives can't confirm changes that need the account's password."
)
SUDO_EXPLANATION = _(
    "To %(action)s, confirm it's you. You won't be asked again for %(minutes)s minutes."
)


def sudo_active(request: HttpRequest) -> bool:
    """The person proved who they are within SUDO_MINUTES (and is not on a support visit)."""
    if context_of(request).visit is not None:
        return False
    proved_at = request.session.get(SUDO_AT, 0)
    return time.time() - proved_at <= settings.SUDO_MINUTES * 60


def sudo_start(request: HttpRequest) -> None:
    """Remember that the person just typed their password or a code."""
    request.session[SUDO_AT] = time.time()


def _prompt_submitted(request: HttpRequest) -> bool:
    return any(key.startswith(f"{PREFIX}-") for key in request.POST)


def _original_fields(post: QueryDict) -> list[tuple[str, str]]:
    """What the person submitted, without the prompt's own fields and the CSRF token (the
    prompt has its own)."""
    return [
        (key, value)
        for key, values in post.lists()
        if key != "csrfmiddlewaretoken" and not key.startswith(f"{PREFIX}-")
        for value in values
    ]


def _without_prompt(post: QueryDict) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in _original_fields(post):
        data.appendlist(key, value)
    data["csrfmiddlewaretoken"] = post.get("csrfmiddlewaretoken", "")
    data._mutable = False
    return data


def _prompt(request: HttpRequest, form: IdentityForm, action: str) -> HttpResponse:
    context = {
        "form": form,
        "explanation": SUDO_EXPLANATION % {"action": action, "minutes": settings.SUDO_MINUTES},
        "fields": _original_fields(request.POST),
        "cancel_url": safe_next_url(
            request, request.META.get("HTTP_REFERER"), default=request.get_full_path()
        ),
    }
    status = 400 if form.errors else 200
    return render(request, "accounts/sudo_confirm.html", context, status=status)


def sudo_required(
    action: str,
    *,
    when: Callable[[HttpRequest], bool] | None = None,
    accept_code: bool = True,
) -> Callable:
    """Guard a view's POST with sudo mode. `action` completes "To …, confirm it's you".

    `when(request)`: only these submissions need it (a grant longer than a week, say).
    `accept_code=False`: the prompt takes the password only, for a form that itself carries a
    two-factor code (a second code from the same app would turn the first into a replay).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in SAFE_METHODS or (when is not None and not when(request)):
                return view(request, *args, **kwargs)
            if context_of(request).visit is not None:
                return render_refusal(request, SUDO_NOT_FOR_REPRESENTATIVES)
            submitted = _prompt_submitted(request)
            # Error reports leave the password out (what sensitive_post_parameters does).
            request.sensitive_post_parameters = [f"{PREFIX}-password"]
            if sudo_active(request) and not submitted:
                return view(request, *args, **kwargs)
            code = accept_code and user_has_mfa(user=request.user)
            form = IdentityForm(request.POST if submitted else None, code=code, prefix=PREFIX)
            if submitted and form.is_valid():
                try:
                    identity_verify(user=request.user, **form.identity_fields())
                except ApplicationError as error:
                    show_error(request, error, form=form)
                else:
                    sudo_start(request)
                    request.POST = _without_prompt(request.POST)
                    return view(request, *args, **kwargs)
            return _prompt(request, form, action)

        return guarded

    return decorator
