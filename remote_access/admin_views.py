"""Admin-side views for support staff: enter an account, turn remote access off and on.

Each view declares its permission classes; the first that fails gives the message staff see.
"""

import time

from django import forms
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import ApplicationError
from accounts.http import client_ip, posted, safe_next_url, show_error
from accounts.middleware import AUTHENTICATED_AT
from accounts.models import Account
from accounts.ratelimit import post_over_limit, rate_limited_response
from accounts.services.mfa import password_check
from accounts.validators import multi_line_text, single_line_text

from . import rules
from .forms import AccessRequestForm
from .middleware import VISIT_SESSION_KEY
from .models import RepresentativeSession
from .permissions import (
    ASK_FOR_ACCESS,
    DISABLE_REMOTE_ACCESS,
    ENABLE_REMOTE_ACCESS,
    ENTER_ACCOUNT,
    BasePermission,
    SignedInRecently,
)
from .selectors import open_visit_for
from .services import (
    access_request_create,
    remote_access_disable,
    remote_access_enable,
    visit_end,
    visit_start,
)

ENTER_POSTS_PER_MINUTE = 10
# Asking a merchant for access mails their Owners and Admins: a handful an hour is plenty.
ACCESS_REQUESTS_PER_HOUR = 5
SIGNED_IN_RECENTLY = SignedInRecently()


class EnterAccountForm(forms.Form):
    ticket_reference = forms.CharField(
        label=gettext_lazy("Ticket reference"),
        max_length=100,
        validators=[single_line_text],
        help_text=gettext_lazy("The support ticket this visit is for; the merchant sees it."),
        error_messages={"required": rules.TICKET_REQUIRED},
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea,
        validators=[multi_line_text],
    )

    def __init__(self, *args, needs_password: bool = False, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if needs_password:
            self.fields["password"] = forms.CharField(
                label=gettext_lazy("Your password"),
                widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                help_text=rules.password_again(),
            )

    def clean_password(self) -> str:
        """The same check as sudo mode's: wrong passwords are counted and lock the prompt."""
        password = self.cleaned_data["password"]
        try:
            password_check(user=self.user, password=password)
        except ApplicationError as error:
            raise forms.ValidationError(error.message, code="wrong_password") from error
        return password

    @property
    def asked_password(self) -> bool:
        return "password" in self.fields

    def visit_fields(self) -> dict[str, str]:
        return {key: self.cleaned_data[key] for key in ("ticket_reference", "note")}


class DisableRemoteAccessForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=1000,
        validators=[multi_line_text],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Usually the merchant's own request; Owners and Admins read it."),
        error_messages={"required": gettext_lazy("Say why remote access is being turned off.")},
    )


def _account_page(account: Account) -> str:
    return reverse("admin:accounts_account_change", args=[account.pk])


def _visit_remember(request: HttpRequest, visit: RepresentativeSession, *, reauthenticated: bool):
    """Tie this browser to the visit, under a new session key (DESIGN §5.6)."""
    request.session.cycle_key()
    request.session[VISIT_SESSION_KEY] = visit.pk
    if reauthenticated:
        request.session[AUTHENTICATED_AT] = time.time()


class AccountAdminViews:
    """Mixed into the Account admin; every view goes through `admin_site.admin_view`."""

    admin_site: AdminSite

    def _refuse(self, request: HttpRequest, account: Account, message: str) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/remote_access/refused.html",
            {
                **self.admin_site.each_context(request),
                "account": account,
                "message": message,
                "title": _("Not allowed"),
            },
            status=403,
        )

    def _check(
        self, request: HttpRequest, account: Account, permission: BasePermission
    ) -> HttpResponse | None:
        message = permission.denial(request, account)
        return None if message is None else self._refuse(request, account, message)

    def _page(
        self, request: HttpRequest, account: Account, template: str, form: forms.Form, title: str
    ) -> TemplateResponse:
        context = {"account": account, "form": form, "title": title, "opts": Account._meta}
        return TemplateResponse(
            request,
            f"admin/remote_access/{template}.html",
            {**self.admin_site.each_context(request), **context},
            status=400 if form.errors else 200,
        )

    def enter_account_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        account = get_object_or_404(Account, pk=object_id)
        refusal = self._check(request, account, ENTER_ACCOUNT)
        if refusal is not None:
            return refusal
        if post_over_limit(request, "enter-account", limit=ENTER_POSTS_PER_MINUTE):
            return rate_limited_response(request)
        needs_password = not SIGNED_IN_RECENTLY.has_permission(request, account)
        form = EnterAccountForm(
            posted(request),
            needs_password=needs_password,
            user=request.user,
        )
        if request.method == "POST" and form.is_valid():
            try:
                visit = visit_start(
                    account=account,
                    staff_user=request.user,
                    source_ip=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    **form.visit_fields(),
                )
            except ApplicationError as error:
                return self._refuse(request, account, error.message)
            _visit_remember(request, visit, reauthenticated=form.asked_password)
            return redirect(safe_next_url(request, request.POST.get("next"), default="/"))
        title = _("Enter %(account)s") % {"account": account.name}
        return self._page(request, account, "enter_account", form, title)

    def ask_for_access_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask the merchant for access on a ticket, when nothing is live."""
        account = get_object_or_404(Account, pk=object_id)
        refusal = self._check(request, account, ASK_FOR_ACCESS)
        if refusal is not None:
            return refusal
        if post_over_limit(request, "access-request", limit=ACCESS_REQUESTS_PER_HOUR, window=3600):
            return rate_limited_response(request)
        form = AccessRequestForm(
            posted(request),
            account=account,
            now=timezone.now(),
        )
        if request.method == "POST" and form.is_valid():
            try:
                access_request_create(
                    account=account, staff_user=request.user, **form.request_fields()
                )
            except ApplicationError as error:
                show_error(request, error, form=form)
            else:
                messages.success(
                    request,
                    _("Asked. %(account)s's Owners and Admins have been mailed; you will be too.")
                    % {"account": account.name},
                )
                return redirect(_account_page(account))
        title = _("Ask %(account)s for access") % {"account": account.name}
        return self._page(request, account, "ask_for_access", form, title)

    def disable_remote_access_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        account = get_object_or_404(Account, pk=object_id)
        refusal = self._check(request, account, DISABLE_REMOTE_ACCESS)
        if refusal is not None:
            return refusal
        form = DisableRemoteAccessForm(posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                remote_access_disable(account=account, staff_user=request.user, **form.cleaned_data)
            except ApplicationError as error:
                show_error(request, error, form=form)
            else:
                messages.success(request, _("Remote access is now off for this account."))
                return redirect(_account_page(account))
        title = _("Turn remote access off for %(account)s") % {"account": account.name}
        return self._page(request, account, "disable_remote_access", form, title)

    def enable_remote_access_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        account = get_object_or_404(Account, pk=object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        refusal = self._check(request, account, ENABLE_REMOTE_ACCESS)
        if refusal is not None:
            return refusal
        remote_access_enable(account=account, staff_user=request.user)
        messages.success(request, _("Remote access is on again; the merchant can grant it."))
        return redirect(_account_page(account))

    def end_own_visit_view(self, request: HttpRequest) -> HttpResponse:
        """End the signed-in staff user's own open visit, from whichever browser: the way
        out of a visit left open in a browser that is gone."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        visit = open_visit_for(user=request.user)
        if visit is not None:
            visit_end(visit=visit, reason=RepresentativeSession.EndReason.EXIT)
            messages.success(
                request, _("Your visit to %(account)s has ended.") % {"account": visit.account.name}
            )
        if request.session.pop(VISIT_SESSION_KEY, None) is not None:
            request.session.cycle_key()
        return redirect(
            safe_next_url(request, request.POST.get("next"), default=reverse("admin:index"))
        )
