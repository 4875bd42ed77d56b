from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.authorization import describe_action, no_account, refuse, render_refusal, requires
from accounts.context import context_of
from accounts.csv_export import csv_download
from accounts.errors import ApplicationError
from accounts.http import show_error
from accounts.ratelimit import limit_posts
from accounts.roles import Capability

from .forms import ContactSupportForm, GrantPeriodForm
from .history import access_history_csv_rows, access_history_visits_page
from .middleware import leave_account
from .models import RemoteAccessGrant, RepresentativeSession
from .selectors import (
    EXPORT_CHUNK_SIZE,
    live_grant,
    support_request_for_account,
)
from .services import (
    REMOTE_ACCESS_OFF,
    access_grant,
    access_remove,
    support_request_create,
    visit_end,
)

ACCESS_SAVED = gettext_lazy("Support access saved.")
# Granting and removing are deliberate acts; a burst of them is a script or a stuck button.
REMOTE_ACCESS_POSTS_PER_MINUTE = 10
ACCESS_REMOVED = gettext_lazy("Support access removed. Support can no longer enter your account.")


def _security_url() -> str:
    return reverse("remote_access:security") + "#remote-access"


def _bound(request: HttpRequest):
    return request.POST if request.method == "POST" else None


@requires(Capability.VIEW_ACCOUNT, unsafe=Capability.MANAGE_REMOTE_ACCESS)
@require_http_methods(["GET", "POST"])
@limit_posts("remote-access", limit=REMOTE_ACCESS_POSTS_PER_MINUTE)
def security(request: HttpRequest) -> HttpResponse:
    account = request.latchkey.account
    if request.method == "POST" and account.remote_access_disabled:
        return render_refusal(request, REMOTE_ACCESS_OFF)
    grant = live_grant(account=account)
    form = GrantPeriodForm(
        _bound(request), account=account, now=timezone.now(), current_grant=grant
    )
    if request.method == "POST" and form.is_valid():
        try:
            access_grant(account=account, actor=request.latchkey.actor, **form.grant_fields())
        except ApplicationError as error:
            show_error(request, error)
        else:
            messages.success(request, ACCESS_SAVED)
        return redirect(_security_url())
    return _security_page(request, grant=grant, form=form)


def _security_page(
    request: HttpRequest, *, grant: RemoteAccessGrant | None, form: GrantPeriodForm
) -> HttpResponse:
    actor = request.latchkey.actor
    before = request.GET.get("before")
    items, older = access_history_visits_page(account=request.latchkey.account, before=before)
    context = {
        "active_tab": "security",
        "grant": grant,
        "form": form,
        "can_manage": actor.can(Capability.MANAGE_REMOTE_ACCESS),
        "can_export": actor.can(Capability.EXPORT_ACCESS_HISTORY),
        "history_items": items,
        "history_before": before,
        "history_older": older,
    }
    status = 400 if form.errors else 200
    return render(request, "remote_access/security.html", context, status=status)


@requires(Capability.MANAGE_REMOTE_ACCESS)
@require_http_methods(["GET", "POST"])
@limit_posts("remote-access", limit=REMOTE_ACCESS_POSTS_PER_MINUTE)
def grant_remove(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = get_object_or_404(RemoteAccessGrant, pk=grant_id, account=request.latchkey.account)
    if request.method == "POST":
        try:
            access_remove(
                account=request.latchkey.account, actor=request.latchkey.actor, grant_id=grant.pk
            )
        except ApplicationError as error:
            messages.info(request, error.message)
        else:
            messages.success(request, ACCESS_REMOVED)
        return redirect(_security_url())
    return render(request, "remote_access/grant_remove.html", {"grant": grant})


@requires(Capability.EXPORT_ACCESS_HISTORY)
@require_http_methods(["GET"])
def history_export(request: HttpRequest) -> StreamingHttpResponse:
    account = request.latchkey.account

    rows = access_history_csv_rows(account=account)
    return csv_download(rows, filename="access-history.csv", rows_per_chunk=EXPORT_CHUNK_SIZE)


@requires(Capability.VIEW_ACCOUNT)
@require_http_methods(["GET"])
def grant_access_link(request: HttpRequest) -> HttpResponse:
    """The link support pastes into chat: straight to the Remote Access section."""
    return redirect(_security_url())


@requires(Capability.CONTACT_SUPPORT)
@require_http_methods(["GET", "POST"])
@limit_posts("remote-access", limit=REMOTE_ACCESS_POSTS_PER_MINUTE)
def contact(request: HttpRequest) -> HttpResponse:
    account, actor = request.latchkey.account, request.latchkey.actor
    grant = live_grant(account=account)
    form = ContactSupportForm(
        _bound(request), account=account, now=timezone.now(), current_grant=grant
    )
    if request.method == "POST":
        refusal = _contact_grant_refusal(request, form)
        if refusal is not None:
            return refusal
        if form.is_valid():
            try:
                support_request, _grant = support_request_create(
                    account=account, actor=actor, **form.support_request_fields()
                )
            except ApplicationError as error:
                form = form.with_current_grant(live_grant(account=account))
                show_error(request, error, form=form)
            else:
                return _contact_sent_redirect(request, support_request)
    can_grant = actor.can(Capability.MANAGE_REMOTE_ACCESS) and not account.remote_access_disabled
    context = {"form": form, "grant": grant, "can_grant": can_grant}
    return render(
        request, "remote_access/contact.html", context, status=400 if form.errors else 200
    )


def _contact_grant_refusal(request: HttpRequest, form: ContactSupportForm) -> HttpResponse | None:
    """Asking for a grant with the message needs what granting needs, checked up front."""
    if not form.wants_grant:
        return None
    if not request.latchkey.actor.can(Capability.MANAGE_REMOTE_ACCESS):
        return refuse(request, Capability.MANAGE_REMOTE_ACCESS)
    if request.latchkey.account.remote_access_disabled:
        return render_refusal(request, REMOTE_ACCESS_OFF)
    return None


def _contact_sent_redirect(request: HttpRequest, support_request) -> HttpResponse:
    summary = _("sent support request #%(number)s") % {"number": support_request.pk}
    describe_action(request, summary)
    return redirect("remote_access:contact_sent", request_id=support_request.pk)


@requires(Capability.CONTACT_SUPPORT)
@require_http_methods(["GET"])
def contact_sent(request: HttpRequest, request_id: int) -> HttpResponse:
    support_request = support_request_for_account(
        account=request.latchkey.account, request_id=request_id
    )
    if support_request is None:
        raise Http404
    return render(
        request,
        "remote_access/contact_sent.html",
        {"support_request": support_request, "grant": live_grant(account=request.latchkey.account)},
    )


# Exit needs no capability: leaving is always allowed, and it is only reachable in a visit.
@no_account
@require_http_methods(["POST"])
def representative_exit(request: HttpRequest) -> HttpResponse:
    """The banner's Exit button: end the visit and go back to the account in admin."""
    context = context_of(request)
    session = context.visit
    context.audited = False  # leaving has its own row in the history
    if session is not None:
        visit_end(visit=session, reason=RepresentativeSession.EndReason.EXIT)
        messages.success(
            request, _("You have left %(account)s.") % {"account": session.account.name}
        )
    return leave_account(request, session)
