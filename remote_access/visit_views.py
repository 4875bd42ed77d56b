"""The merchant's side of a support visit: End visit (the live notice), and the mails'
one-click escape link. Both confirm first (POST), and both need an Owner or Admin."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.authorization import requires
from accounts.errors import ApplicationError
from accounts.http import show_error
from accounts.roles import Capability

from .links import escape_token_read
from .models import RemoteAccessGrant, RepresentativeSession
from .selectors import live_grant
from .services import access_remove, visit_end_by_merchant
from .views import ACCESS_REMOVED

VISIT_ENDED = gettext_lazy("The support visit has ended: they are out of your account.")
ACCESS_STILL_ON = gettext_lazy(
    "Support still has access and could come back in. Remove it below if you no longer want it."
)
ACCESS_REMOVED_TOO = gettext_lazy("The visit has ended and support access is removed.")


def _security(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("remote_access:security") + "#remote-access")


def _end(request: HttpRequest, visit: RepresentativeSession, *, remove_access: bool):
    account, actor = request.latchkey.account, request.latchkey.actor
    try:
        visit_end_by_merchant(
            account=account, actor=actor, visit_id=visit.pk, remove_access=remove_access
        )
    except ApplicationError as error:
        show_error(request, error)
        return _security(request)
    messages.success(request, ACCESS_REMOVED_TOO if remove_access else VISIT_ENDED)
    if not remove_access and live_grant(account=account) is not None:
        messages.info(request, ACCESS_STILL_ON)
    return _security(request)


@requires(Capability.MANAGE_REMOTE_ACCESS)
@require_http_methods(["GET", "POST"])
def visit_end(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The live notice's End visit: confirm, then end it (and remove access if ticked)."""
    account = request.latchkey.account
    visit = get_object_or_404(
        RepresentativeSession.objects.select_related("staff_user"), pk=visit_id, account=account
    )
    if request.method == "POST":
        return _end(request, visit, remove_access=request.POST.get("remove_access") == "1")
    context = {
        "visit": visit if visit.ended_at is None else None,
        "grant": live_grant(account=account),
        "token": None,  # no mail's link: the person decides whether access goes too
        "active_tab": "security",
    }
    return render(request, "remote_access/visit_end.html", context)


def _escape_targets(request: HttpRequest, token: str):
    """The open visit and active grant a mail's link names, in this account only."""
    data = escape_token_read(token) or {}
    account = request.latchkey.account
    if data.get("a") != account.pk:
        return None, None
    visits = RepresentativeSession.objects.select_related("staff_user", "grant")
    visit = visits.filter(pk=data.get("v") or 0, account=account, ended_at__isnull=True).first()
    grant_id = visit.grant_id if visit else data.get("g")
    grant = live_grant(account=account)
    return visit, grant if grant is not None and grant.pk == grant_id else None


@requires(Capability.MANAGE_REMOTE_ACCESS)
@require_http_methods(["GET", "POST"])
def escape(request: HttpRequest, token: str) -> HttpResponse:
    """A mail's "End this visit and remove access" / "remove access now": sign-in, confirm,
    done. Once the visit and the grant have ended, the link has nothing left to do."""
    visit, grant = _escape_targets(request, token)
    if request.method == "POST" and visit is not None:
        return _end(request, visit, remove_access=True)
    if request.method == "POST" and grant is not None:
        return _remove(request, grant)
    status = 200 if (visit or grant) or request.method == "GET" else 410
    context = {"visit": visit, "grant": grant, "token": token, "active_tab": "security"}
    return render(request, "remote_access/visit_end.html", context, status=status)


def _remove(request: HttpRequest, grant: RemoteAccessGrant) -> HttpResponse:
    try:
        access_remove(
            account=request.latchkey.account, actor=request.latchkey.actor, grant_id=grant.pk
        )
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, ACCESS_REMOVED)
    return _security(request)
