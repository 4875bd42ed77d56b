import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.authorization import describe_action, no_account, refuse, render_refusal, requires
from accounts.backends import read_with_user_results
from accounts.context import context_of
from accounts.csv_export import csv_response
from accounts.errors import ApplicationError
from accounts.http import posted, say_in_panel, show_error
from accounts.ratelimit import limit_posts
from accounts.roles import Capability
from accounts.selectors import owners_and_admins
from accounts.sudo import sudo_required

from . import timefmt
from .forms import (
    ApproveAccessRequestForm,
    ContactSupportForm,
    DenyAccessRequestForm,
    GrantPeriodForm,
    contact_prefill,
)
from .history import HistoryPage, access_history_csv
from .mail import access_request_sentence
from .middleware import leave_account
from .models import AccessRequest, RemoteAccessGrant, RepresentativeSession
from .periods import SUDO_GRANT_DAYS, account_today, grant_is_long
from .selectors import (
    SecurityTabReads,
    live_grant,
    security_tab_reads,
    support_request_for_account,
)
from .services import (
    REMOTE_ACCESS_OFF,
    access_ask,
    access_grant,
    access_remove,
    access_request_approve,
    access_request_deny,
    support_request_create,
    visit_end,
)

ACCESS_SAVED = gettext_lazy("Support access saved.")
ACCESS_ASKED = gettext_lazy(
    "Your ask was sent to the Owners and Admins of %(account)s. It is in the access history too."
)
# The element id of the Remote Access panel: outcomes are shown in it, redirects go to it.
PANEL = "remote-access"
# Granting and removing are deliberate acts; a burst of them is a script or a stuck button.
REMOTE_ACCESS_POSTS_PER_MINUTE = 10
ACCESS_REMOVED = gettext_lazy("Support access removed. Support can no longer enter your account.")
LONG_GRANT_ACTION = format_lazy(
    gettext_lazy("give support access for more than {days} days"), days=SUDO_GRANT_DAYS
)
APPROVE_REQUEST_ACTION = gettext_lazy("let support into your account")
REQUEST_APPROVED = gettext_lazy("Request approved: support can enter your account now.")
REQUEST_DENIED = gettext_lazy("Request denied. Support has been told.")


def _security_url() -> str:
    return reverse("remote_access:security") + "#remote-access"


def _long_grant(request: HttpRequest) -> bool:
    """The POST grants access for more than a week (and could be saved): sudo mode first."""
    account, now = request.latchkey.account, timezone.now()
    form = GrantPeriodForm(request.POST, account=account, now=now)
    # Who may not grant at all is refused by the view itself, with that reason, and recorded.
    may_grant = request.latchkey.actor.can(Capability.MANAGE_REMOTE_ACCESS)
    if not may_grant or account.remote_access_disabled or not form.is_valid():
        return False
    data = form.cleaned_data
    return grant_is_long(
        account=account, duration=data["duration"], now=now, last_day=data["last_day"]
    )


@requires(Capability.VIEW_ACCOUNT, unsafe=Capability.MANAGE_REMOTE_ACCESS)
@require_http_methods(["GET", "POST"])
@limit_posts("remote-access", limit=REMOTE_ACCESS_POSTS_PER_MINUTE)
@sudo_required(LONG_GRANT_ACTION, when=_long_grant)
def security(request: HttpRequest) -> HttpResponse:
    account = request.latchkey.account
    if request.method == "POST" and account.remote_access_disabled:
        return render_refusal(request, REMOTE_ACCESS_OFF)
    reads = _tab_reads(request)
    if request.method != "POST":
        return _security_page(request, reads=reads)
    grant = reads.grant
    form = GrantPeriodForm(request.POST, account=account, now=timezone.now(), current_grant=grant)
    if not form.is_valid():
        return _security_page(request, reads=reads, form=form)
    try:
        new = access_grant(account=account, actor=request.latchkey.actor, **form.grant_fields())
    except ApplicationError as error:
        show_error(request, error, panel=PANEL)
    else:
        say_in_panel(request, PANEL, _saved_outcome(grant=new, previous=grant))
    return redirect(_security_url())


def _tab_reads(request: HttpRequest) -> SecurityTabReads:
    """What the Security tab shows besides its history, taken from what was read with the
    signed-in user when the tab's own request read it there."""
    return security_tab_reads(
        account=request.latchkey.account, read_with_user=read_with_user_results(request.user)
    )


def _saved_outcome(*, grant: RemoteAccessGrant, previous: RemoteAccessGrant | None) -> str:
    """Restate what Save did: who can get in, until when, and how that compares."""
    account = grant.account
    sentence = _("%(saved)s %(vendor)s support can access %(account)s %(until)s, %(left)s.") % {
        "saved": ACCESS_SAVED,
        "vendor": settings.VENDOR_NAME,
        "account": account.name,
        "until": timefmt.grant_end_phrase(grant, account.tzinfo),
        "left": timefmt.time_left(until=grant.expires_at, now=timezone.now()),
    }
    if previous is not None:
        change = timefmt.change_phrase(old_end=previous.expires_at, new_end=grant.expires_at)
        sentence += " " + _("The new end is %(change)s.") % {"change": change}
    return sentence


def _pending_requests(
    request: HttpRequest,
    *,
    grant: RemoteAccessGrant | None,
    pending: list[AccessRequest],
    bound: ApproveAccessRequestForm | DenyAccessRequestForm | None = None,
) -> list[dict]:
    """Each pending request with its sentence and its Approve and Deny forms (`bound` in
    place of the fresh one when what the person chose came back with an error)."""
    account, now = request.latchkey.account, timezone.now()
    bound_to = getattr(bound, "access_request", None)
    rows = []
    for access_request in pending:
        mine = bound_to is not None and bound_to.pk == access_request.pk
        approve = bound if mine and isinstance(bound, ApproveAccessRequestForm) else None
        deny = bound if mine and isinstance(bound, DenyAccessRequestForm) else None
        rows.append(
            {
                "access_request": access_request,
                "sentence": access_request_sentence(access_request),
                "approve_form": approve
                or ApproveAccessRequestForm(
                    access_request=access_request, account=account, now=now, current_grant=grant
                ),
                "deny_form": deny or DenyAccessRequestForm(access_request=access_request),
                # Staff who are also members never decide their own request (the service
                # refuses it too); they are told why instead of shown buttons.
                "own": access_request.staff_user_id == request.user.pk,
            }
        )
    return rows


def _security_page(
    request: HttpRequest,
    *,
    reads: SecurityTabReads,
    form: GrantPeriodForm | None = None,
    bound_request_form: ApproveAccessRequestForm | DenyAccessRequestForm | None = None,
) -> HttpResponse:
    """The tab, from what `security_tab_reads` read; `form` is the grant form (a fresh one
    when None), `bound_request_form` an Approve or Deny form sent back with an error."""
    actor = request.latchkey.actor
    account = request.latchkey.account
    grant = reads.grant
    now = timezone.now()
    today = account_today(account=account, now=now)
    can_manage = actor.can(Capability.MANAGE_REMOTE_ACCESS)
    panel_key = ""
    fresh_form = form is None
    if fresh_form:
        # Built only if the panel is rendered, not when it is kept.
        form = SimpleLazyObject(
            lambda: GrantPeriodForm(account=account, now=now, current_grant=grant)
        )
        if can_manage or actor.is_representative:
            panel_key = remote_access_panel_key(
                account=account,
                grant=grant,
                can_manage=can_manage,
                support=actor.is_representative,
                now=now,
                today=today,
            )
    context = {
        "access_requests": _pending_requests(
            request, grant=grant, pending=reads.pending, bound=bound_request_form
        ),
        "active_tab": "security",
        "grant": grant,
        "form": form,
        "can_manage": can_manage,
        "panel_key": panel_key,
        "grant_deciders": (
            [] if can_manage or actor.is_representative else owners_and_admins(account=account)
        ),
        # Called only if the panel is rendered (a template calls a callable it is given).
        "zone_abbreviations": lambda: timefmt.zone_abbreviations(zone=account.tzinfo, now=now),
        "preview_words": timefmt.preview_words,
        "can_export": actor.can(Capability.EXPORT_ACCESS_HISTORY),
        "history": HistoryPage(
            account=account,
            before=request.GET.get("before"),
            version=reads.newest_event_id,
        ),
        # The day the grant form's custom-date bounds start from (its cache key).
        "form_day": today,
    }
    errors = (not fresh_form and form.errors) or (
        bound_request_form is not None and bound_request_form.errors
    )
    return render(request, "remote_access/security.html", context, status=400 if errors else 200)


def remote_access_panel_key(
    *,
    account,
    grant: RemoteAccessGrant | None,
    can_manage: bool,
    support: bool,
    now: dt.datetime,
    today: dt.date,
) -> str:
    """Everything the remote-access panel shows with a fresh form, for keeping it per process
    (security.html): the account, its zone and whether remote access is off; the live grant
    (a grant never changes: a change is a new grant) with its granter as named now and the
    time left as written; whether the person manages access and whether they are support
    (members who cannot manage see who can: not kept); and the account's today, which the
    form's custom-date bounds and the zone's abbreviations for the year start from."""
    parts = [
        account.pk,
        account.timezone,
        account.remote_access_disabled,
        can_manage,
        support,
        today.isoformat(),
    ]
    if grant is not None:
        parts += [
            grant.pk,
            grant.granted_by.full_name,
            grant.granted_by.email,
            timefmt.time_left(until=grant.expires_at, now=now),
        ]
    return "|".join(str(part) for part in parts)


def _pending_request_or_404(request: HttpRequest, request_id: int) -> AccessRequest:
    return get_object_or_404(
        AccessRequest.objects.select_related("staff_user", "account"),
        pk=request_id,
        account=request.latchkey.account,
    )


@requires(Capability.MANAGE_REMOTE_ACCESS)
@require_http_methods(["POST"])
@limit_posts("remote-access", limit=REMOTE_ACCESS_POSTS_PER_MINUTE)
@sudo_required(APPROVE_REQUEST_ACTION)
def access_request_approve_view(request: HttpRequest, access_request_id: int) -> HttpResponse:
    """Approve: a grant for the period and scope in the request's form."""
    account = request.latchkey.account
    if account.remote_access_disabled:
        return render_refusal(request, REMOTE_ACCESS_OFF)
    access_request = _pending_request_or_404(request, access_request_id)
    reads = _tab_reads(request)
    grant = reads.grant
    form = ApproveAccessRequestForm(
        request.POST,
        access_request=access_request,
        account=account,
        now=timezone.now(),
        current_grant=grant,
    )
    if not form.is_valid():
        return _security_page(request, reads=reads, bound_request_form=form)
    try:
        access_request_approve(
            account=account,
            actor=request.latchkey.actor,
            request_id=access_request.pk,
            **form.grant_fields(),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, REQUEST_APPROVED)
    return redirect(_security_url())


@requires(Capability.MANAGE_REMOTE_ACCESS)
@require_http_methods(["POST"])
@limit_posts("remote-access", limit=REMOTE_ACCESS_POSTS_PER_MINUTE)
def access_request_deny_view(request: HttpRequest, access_request_id: int) -> HttpResponse:
    """Deny, with an optional reason support reads."""
    access_request = _pending_request_or_404(request, access_request_id)
    form = DenyAccessRequestForm(request.POST, access_request=access_request)
    if not form.is_valid():
        return _security_page(request, reads=_tab_reads(request), bound_request_form=form)
    try:
        access_request_deny(
            account=request.latchkey.account,
            actor=request.latchkey.actor,
            request_id=access_request.pk,
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, REQUEST_DENIED)
    return redirect(_security_url())


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
            say_in_panel(request, PANEL, error.message, level=messages.INFO)
        else:
            say_in_panel(request, PANEL, ACCESS_REMOVED)
        return redirect(_security_url())
    context = {"grant": grant, "active_tab": "security"}
    return render(request, "remote_access/grant_remove.html", context)


@requires(Capability.CONTACT_SUPPORT)
@require_http_methods(["POST"])
@limit_posts("remote-access", limit=REMOTE_ACCESS_POSTS_PER_MINUTE)
def ask_for_access(request: HttpRequest) -> HttpResponse:
    """A Manager's or Analyst's "Ask them to grant access": mail the Owners and Admins."""
    account = request.latchkey.account
    try:
        access_ask(account=account, actor=request.latchkey.actor)
    except ApplicationError as error:
        show_error(request, error, panel=PANEL)
    else:
        say_in_panel(request, PANEL, ACCESS_ASKED % {"account": account.name})
    return redirect(_security_url())


@requires(Capability.EXPORT_ACCESS_HISTORY)
@require_http_methods(["GET"])
def history_export(request: HttpRequest) -> StreamingHttpResponse:
    account = request.latchkey.account
    return csv_response(access_history_csv(account=account), filename="access-history.csv")


@requires(Capability.VIEW_ACCOUNT)
@require_http_methods(["GET"])
def grant_access_link(request: HttpRequest) -> HttpResponse:
    """The link support pastes into chat: straight to the Remote Access section."""
    return redirect(_security_url())


@requires(Capability.CONTACT_SUPPORT)
@require_http_methods(["GET", "POST"])
@limit_posts("remote-access", limit=REMOTE_ACCESS_POSTS_PER_MINUTE)
@sudo_required(LONG_GRANT_ACTION, when=_long_grant)
def contact(request: HttpRequest) -> HttpResponse:
    account, actor = request.latchkey.account, request.latchkey.actor
    grant = live_grant(account=account)
    form = ContactSupportForm(
        posted(request),
        account=account,
        now=timezone.now(),
        current_grant=grant,
        initial=contact_prefill(request.GET),
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
