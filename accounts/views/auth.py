"""Signing in (password, then a code when two-factor is on) and invitations. The profile is
in views/profile.py."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from accounts.errors import ApplicationError

from ..authorization import public
from ..forms import AcceptInvitationForm, CodeForm, EmailAuthenticationForm
from ..http import client_ip, posted, safe_next_url, show_error
from ..middleware import SESSION_ACCOUNT_KEY
from ..models import User
from ..ratelimit import attempts, record_attempt, reset_attempts
from ..services import (
    invitation_accept,
    invitation_for_token,
    mfa_match,
    user_has_mfa,
)

MFA_PENDING = "mfa_pending"
MFA_PENDING_SECONDS = 300


def _safe_next(request: HttpRequest, value: str | None) -> str:
    return safe_next_url(request, value, default=reverse("accounts:home"))


# Sign-in lockout, counted in two separate ways (failures only; a success clears its email):
# - per email: a few wrong passwords lock that one email, wherever they come from;
# - per client IP: a much higher bar, for someone trying many emails from one address. It
#   sits far above what an office full of colleagues mistyping behind one IP would reach,
#   so one person's typos never lock anyone else out.
LOGIN_FAILURES_PER_EMAIL = 5
LOGIN_FAILURES_PER_IP = 100
LOGIN_LOCKOUT_SECONDS = 15 * 60
LOCKED_OUT = format_lazy(
    gettext_lazy(
        "Too many failed sign-ins. Wait {minutes} minutes and try again, or reset your password."
    ),
    minutes=LOGIN_LOCKOUT_SECONDS // 60,
)


def _login_counters(request: HttpRequest) -> list[tuple[str, str, int]]:
    """(scope, ident, limit) for each count this sign-in attempt belongs to."""
    email = request.POST.get("username", "").strip().lower()[:254]
    return [
        ("login-email", email, LOGIN_FAILURES_PER_EMAIL),
        ("login-ip", client_ip(request) or "unknown", LOGIN_FAILURES_PER_IP),
    ]


class SignInView(LoginView):
    """Password first; with two-factor on, the code on a second page before signing in.

    Five failures for an email lock sign-in for that email for 15 minutes; a hundred from
    one client IP lock that IP (see LOGIN_FAILURES_PER_IP).
    """

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        counters = _login_counters(request)
        if any(attempts(scope, ident) >= limit for scope, ident, limit in counters):
            # Not even checked: a locked sign-in gives no hint whether the password was right.
            form = self.form_class(request, initial={"username": request.POST.get("username", "")})
            context = self.get_context_data(form=form, locked_message=LOCKED_OUT)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for scope, ident, _limit in _login_counters(self.request):
            record_attempt(scope, ident, window=LOGIN_LOCKOUT_SECONDS)
        return super().form_invalid(form)

    def form_valid(self, form):
        scope, email, _limit = _login_counters(self.request)[0]
        reset_attempts(scope, email)
        user = form.get_user()
        if not user_has_mfa(user=user):
            return super().form_valid(form)
        self.request.session[MFA_PENDING] = {
            "user_id": user.pk,
            "backend": user.backend,
            "since": time.time(),
        }
        query = urlencode({"next": self.get_redirect_url() or ""})
        return redirect(f"{reverse('accounts:login_verify')}?{query}")


def _pending_user(request: HttpRequest) -> tuple[User | None, str]:
    pending = request.session.get(MFA_PENDING)
    if not pending or time.time() - pending["since"] > MFA_PENDING_SECONDS:
        request.session.pop(MFA_PENDING, None)
        return None, ""
    return User.objects.filter(pk=pending["user_id"], is_active=True).first(), pending["backend"]


@public
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    user, backend = _pending_user(request)
    if user is None:
        messages.info(request, _("Sign in again: the code page waits five minutes at most."))
        return redirect("accounts:login")
    form = CodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa_match(user=user, token=form.cleaned_data["code"])
        except ApplicationError as error:
            show_error(request, error, form=form)
        else:
            request.session.pop(MFA_PENDING, None)
            auth_login(request, user, backend=backend)
            otp_login(request, device)
            return redirect(_safe_next(request, request.GET.get("next")))
    return render(
        request,
        "registration/login_verify.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


# --- invitations ---------------------------------------------------------------------------


@public
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_for_token(token=token)
    if invitation is None or not invitation.is_pending():
        return render(request, "accounts/invitation_unusable.html", status=410)
    user = request.user if request.user.is_authenticated else None
    existing = user is None and User.objects.filter(email=invitation.email).exists()
    form = AcceptInvitationForm(request.POST if request.method == "POST" and not user else None)
    if request.method == "POST" and not existing and (user or form.is_valid()):
        try:
            membership = invitation_accept(token=token, user=user, **form.new_user_fields())
        except ApplicationError as error:
            show_error(request, error)
            return redirect("accounts:invitation_accept", token=token)
        return _joined(request, membership, new_user=user is None)
    context = {
        "invitation": invitation,
        "form": form,
        "signed_in_as_other": user is not None and user.email != invitation.email,
        "existing_user": existing,
        "login_url": f"{reverse('accounts:login')}?{urlencode({'next': request.path})}",
    }
    status = 400 if form.errors else 200
    return render(request, "accounts/invitation_accept.html", context, status=status)


def _joined(request: HttpRequest, membership, *, new_user: bool) -> HttpResponse:
    """Sign a new user in, make the account they joined the current one, and welcome them."""
    if new_user:
        auth_login(request, membership.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session[SESSION_ACCOUNT_KEY] = membership.account_id
    welcome = _("Welcome to %(account)s.") % {"account": membership.account.name}
    messages.success(request, welcome)
    return redirect("accounts:home")
