"""The profile: one's own two-factor sign-in and sessions.

Every view here is `@own_sign_in`: a support representative never reaches it during a visit.
Each change asks for the current factor in the request that makes it (services/mfa.py).
"""

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from accounts.errors import ApplicationError

from ..authorization import own_sign_in
from ..forms import CodeForm, IdentityForm
from ..http import posted, safe_next_url, show_error
from ..services import (
    mfa_confirm,
    mfa_disable,
    mfa_setup_begin,
    mfa_setup_key,
    recovery_codes_renew,
    totp_device_preview,
    totp_secret,
    user_has_mfa,
    user_sessions_end_others,
)
from ..sudo import sudo_required, sudo_start

# The signed setup ticket (mfa.mfa_setup_begin) between proving who one is and the new app's
# first code.
MFA_SETUP_TICKET = "mfa_setup_ticket"
MFA_OFF = _("Two-factor sign-in is off.")
OTHER_SESSIONS_ENDED = _("You are signed out everywhere else. This browser stays signed in.")
TURN_OFF_ACTION = _("turn off two-factor sign-in")


def _quiet(form):
    """A form on the profile page, where nothing should grab the focus on arrival."""
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)
    return form


def _profile_page(request: HttpRequest, *, status: int = 200, **forms) -> HttpResponse:
    has_mfa = user_has_mfa(user=request.user)
    context = {
        "has_mfa": has_mfa,
        "off_form": forms.get("off_form") or _quiet(CodeForm()),
        "codes_form": forms.get("codes_form")
        or _quiet(IdentityForm(password=False, code=True, prefix="codes")),
        "sessions_form": forms.get("sessions_form")
        or _quiet(IdentityForm(code=has_mfa, prefix="sessions")),
    }
    return render(request, "accounts/profile.html", context, status=status)


@own_sign_in
@require_http_methods(["GET"])
def profile(request: HttpRequest) -> HttpResponse:
    return _profile_page(request)


def _qr_data_uri(device) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _recovery_codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    done_url = safe_next_url(request, request.GET.get("next"), default=reverse("accounts:home"))
    context = {"codes": codes, "done_url": done_url}
    return render(request, "accounts/mfa_recovery_codes.html", context)


@own_sign_in
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_post_parameters("current-password")
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Set up (or replace) the authenticator app: first who one is, then the new app's code."""
    ticket = request.session.get(MFA_SETUP_TICKET)
    key = mfa_setup_key(user=request.user, ticket=ticket)
    if key is None:
        return _mfa_setup_start(request)
    form = CodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = mfa_confirm(
                user=request.user, ticket=ticket, token=form.cleaned_data["code"]
            )
        except ApplicationError as error:
            show_error(request, error, form=form)
        else:
            del request.session[MFA_SETUP_TICKET]
            otp_login(request, device)
            return _recovery_codes_page(request, codes)
    device = totp_device_preview(user=request.user, key=key)
    context = {"form": form, "qr": _qr_data_uri(device), "secret": totp_secret(device)}
    return render(request, "accounts/mfa_setup.html", context, status=400 if form.errors else 200)


def _mfa_setup_start(request: HttpRequest) -> HttpResponse:
    """Step one: the current code (two-factor on) or the password (off). No secret is made,
    let alone shown, before it is right."""
    has_mfa = user_has_mfa(user=request.user)
    form = IdentityForm(posted(request), password=not has_mfa, code=has_mfa, prefix="current")
    if request.method == "POST" and form.is_valid():
        try:
            ticket = mfa_setup_begin(user=request.user, **form.identity_fields())
        except ApplicationError as error:
            show_error(request, error, form=form)
        else:
            request.session[MFA_SETUP_TICKET] = ticket
            sudo_start(request)
            return redirect(request.get_full_path())
    context = {"form": form, "has_mfa": has_mfa}
    status = 400 if form.errors else 200
    return render(request, "accounts/mfa_setup_start.html", context, status=status)


@own_sign_in
@require_http_methods(["POST"])
@sudo_required(TURN_OFF_ACTION, accept_code=False)
def mfa_turn_off(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            mfa_disable(user=request.user, token=form.cleaned_data["code"])
        except ApplicationError as error:
            show_error(request, error, form=form)
        else:
            messages.success(request, MFA_OFF)
            return redirect("accounts:profile")
    return _profile_page(request, off_form=form, status=400)


@own_sign_in
@require_http_methods(["POST"])
@never_cache
def mfa_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes for a current code; the old ones stop working."""
    form = IdentityForm(request.POST, password=False, code=True, prefix="codes")
    if form.is_valid():
        try:
            codes = recovery_codes_renew(user=request.user, token=form.identity_fields()["token"])
        except ApplicationError as error:
            show_error(request, error, form=form)
        else:
            return _recovery_codes_page(request, codes)
    return _profile_page(request, codes_form=form, status=400)


@own_sign_in
@require_http_methods(["POST"])
@sensitive_post_parameters("sessions-password")
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    """Sign out of every other browser, for the password or a current code."""
    form = IdentityForm(request.POST, code=user_has_mfa(user=request.user), prefix="sessions")
    if form.is_valid():
        try:
            user = user_sessions_end_others(user=request.user, **form.identity_fields())
        except ApplicationError as error:
            show_error(request, error, form=form)
        else:
            update_session_auth_hash(request, user)  # this session follows the new hash
            messages.success(request, OTHER_SESSIONS_ENDED)
            return redirect("accounts:profile")
    return _profile_page(request, sessions_form=form, status=400)
