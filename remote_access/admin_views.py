"""Admin-side views for support staff: enter an account, turn remote access off and on.

Each view declares its permission classes; the first that fails gives the message staff see.
"""

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.middleware import AUTHENTICATED_AT
from accounts.models import Account
from accounts.network import client_ip
from accounts.ratelimit import post_over_limit, rate_limited_response

from .middleware import SESSION_KEY
from .permissions import (
    DISABLE_REMOTE_ACCESS,
    ENABLE_REMOTE_ACCESS,
    ENTER_ACCOUNT,
    BasePermission,
)
from .services import (
    RemoteAccessError,
    remote_access_disable,
    remote_access_enable,
    session_start,
)

ENTER_POSTS_PER_MINUTE = 10


class EnterAccountForm(forms.Form):
    ticket_reference = forms.CharField(
        label=gettext_lazy("Ticket reference"),
        max_length=100,
        help_text=gettext_lazy("The support ticket this visit is for; the merchant sees it."),
        error_messages={"required": gettext_lazy("Give the ticket this visit is for.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=2000, widget=forms.Textarea
    )

    def __init__(self, *args, needs_password: bool = False, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if needs_password:
            self.fields["password"] = forms.CharField(
                label=gettext_lazy("Your password"),
                widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                help_text=gettext_lazy(
                    "You signed in more than 15 minutes ago; confirm it is you."
                ),
            )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."), code="wrong_password")
        return password

    def clean_ticket_reference(self) -> str:
        value = self.cleaned_data["ticket_reference"].strip()
        if not value:
            raise forms.ValidationError(_("Give the ticket this visit is for."), code="required")
        return value


class DisableRemoteAccessForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Usually the merchant's own request; Owners and Admins read it."),
        error_messages={"required": gettext_lazy("Say why remote access is being turned off.")},
    )


def _account_page(account: Account) -> str:
    return reverse("admin:accounts_account_change", args=[account.pk])


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

    def enter_account_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        account = get_object_or_404(Account, pk=object_id)
        refusal = self._check(request, account, ENTER_ACCOUNT)
        if refusal is not None:
            return refusal
        if post_over_limit(request, "enter-account", limit=ENTER_POSTS_PER_MINUTE):
            return rate_limited_response(request)
        signed_in_at = request.session.get(AUTHENTICATED_AT, 0)
        needs_password = time.time() - signed_in_at > settings.STAFF_REAUTH_AFTER.total_seconds()
        form = EnterAccountForm(
            request.POST if request.method == "POST" else None,
            needs_password=needs_password,
            user=request.user,
        )
        if request.method == "POST" and form.is_valid():
            try:
                session = session_start(
                    account=account,
                    staff_user=request.user,
                    ticket_reference=form.cleaned_data["ticket_reference"],
                    note=form.cleaned_data["note"],
                    source_ip=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
            except RemoteAccessError as error:
                return self._refuse(request, account, error.message)
            request.session.cycle_key()
            request.session[SESSION_KEY] = session.pk
            if needs_password:
                request.session[AUTHENTICATED_AT] = time.time()
            destination = request.POST.get("next", "/")
            if not url_has_allowed_host_and_scheme(
                destination, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                destination = "/"
            return redirect(destination)
        return TemplateResponse(
            request,
            "admin/remote_access/enter_account.html",
            {
                **self.admin_site.each_context(request),
                "account": account,
                "form": form,
                "title": _("Enter %(account)s") % {"account": account.name},
                "opts": Account._meta,
            },
            status=400 if form.errors else 200,
        )

    def disable_remote_access_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        account = get_object_or_404(Account, pk=object_id)
        refusal = self._check(request, account, DISABLE_REMOTE_ACCESS)
        if refusal is not None:
            return refusal
        form = DisableRemoteAccessForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                remote_access_disable(
                    account=account, staff_user=request.user, reason=form.cleaned_data["reason"]
                )
            except RemoteAccessError as error:
                form.add_error("reason", error.message)
            else:
                messages.success(request, _("Remote access is now off for this account."))
                return redirect(_account_page(account))
        return TemplateResponse(
            request,
            "admin/remote_access/disable_remote_access.html",
            {
                **self.admin_site.each_context(request),
                "account": account,
                "form": form,
                "title": _("Turn remote access off for %(account)s") % {"account": account.name},
                "opts": Account._meta,
            },
            status=400 if form.errors else 200,
        )

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
