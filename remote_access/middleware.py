"""Puts a support representative on the request while their session is valid, and ends the
session, with its reason, on the first request where it no longer is (DESIGN §5.3).

It is also the one place a visit is recorded (DESIGN §5.7, §5.10): one row per page the
representative opens and one per POST, whatever it answered; a refusal writes its own row
instead. Views never record themselves; they may describe what a POST did
(`describe_action`)."""

import html
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from accounts.authorization import SAFE_METHODS
from accounts.backends import RequestFacts, read_with_user_results
from accounts.compiled import Bound
from accounts.context import context_of
from accounts.http import in_staff_admin

from .actors import RepresentativeActor
from .models import AccessEvent, RepresentativeSession
from .selectors import visit_state, visit_state_read
from .services import event_record, visit_end

# The session entry that ties a staff browser to its visit (not Django's own SESSION_KEY).
VISIT_SESSION_KEY = "representative_session_id"
# Where django-otp's device entry waits while the visit is on merchant pages (see below).
VISIT_DEVICE_KEY = "representative_visit_device"
EndReason = RepresentativeSession.EndReason


def end_reason(session: RepresentativeSession, *, user, now) -> str | None:
    """Why this session may not go on, or None. Each condition on its own line."""
    if session.ended_at is not None:
        return session.end_reason or EndReason.EXIT
    if not (user.is_active and user.is_staff):
        return EndReason.PERMISSION_LOST
    if not (user.is_superuser or session.staff_may_enter):
        return EndReason.PERMISSION_LOST
    if session.account.remote_access_disabled:
        return EndReason.DISABLED
    if session.grant.status == session.grant.Status.REVOKED:
        return EndReason.REVOKED
    if session.grant.status == session.grant.Status.REPLACED:
        return EndReason.REPLACED
    if not session.grant_is_live:
        return EndReason.EXPIRED
    if now - session.started_at >= settings.REPRESENTATIVE_SESSION_MAX_AGE:
        return EndReason.TIMED_OUT
    return None


def two_factor_set_aside(request: HttpRequest) -> None:
    """Take django-otp's device entry out of the session while the visit is on merchant pages.

    django-otp reads the device behind that entry on every request that touches the user, to
    say whether this sign-in used two factors. Entering asked (a visit starts only on a
    two-factor sign-in: remote_access.permissions) and no merchant page asks again, so the
    read cost each page of a visit a query for nothing. The staff user's own pages do ask
    (all of admin is behind two factors): `two_factor_restore` puts the entry back for them
    and at the end of the visit, and reads the device then, with django-otp's checks, so a
    device removed meanwhile no longer counts."""
    device_id = request.session.pop(DEVICE_ID_SESSION_KEY, None)
    if device_id is not None:
        request.session[VISIT_DEVICE_KEY] = device_id


def two_factor_restore(request: HttpRequest) -> None:
    """Undo `two_factor_set_aside`, with django-otp's own checks: the device still exists, is
    confirmed and is the user's; otherwise this sign-in no longer counts as two-factor."""
    device_id = request.session.pop(VISIT_DEVICE_KEY, None)
    if device_id is None or not request.user.is_authenticated:
        return
    # A sign-in with a code during the visit wrote a newer entry; it wins.
    device_id = request.session.setdefault(DEVICE_ID_SESSION_KEY, device_id)
    if getattr(request.user, "otp_device", None) is not None:
        return
    device = Device.from_persistent_id(device_id)
    if device is None or device.user_id != request.user.pk or not device.confirmed:
        del request.session[DEVICE_ID_SESSION_KEY]
        return
    request.user.otp_device = device


def leave_account(request: HttpRequest, session: RepresentativeSession | None) -> HttpResponse:
    """Forget the session, rotate the key, and land back on the account in admin."""
    request.session.pop(VISIT_SESSION_KEY, None)
    two_factor_restore(request)
    request.session.cycle_key()
    if session is None:
        return redirect("admin:index")
    return redirect(reverse("admin:accounts_account_change", args=[session.account_id]))


# The name the visit check has in what was read with the user (registered in apps.py).
VISIT_READ = "visit"


def visit_read_for_request(facts: RequestFacts) -> dict[str, Bound]:
    """The visit check for the visit the session is in, to run with the signed-in user
    (registered in apps.py); nothing outside a visit."""
    visit_id, user_id = facts.session.get(VISIT_SESSION_KEY), facts.session.get(SESSION_KEY)
    if visit_id is None or user_id is None:
        return {}
    read = visit_state_read(session_id=visit_id, staff_user_id=int(user_id), now=facts.now)
    return {VISIT_READ: read}


class RepresentativeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session_id = request.session.get(VISIT_SESSION_KEY)
        if session_id is None:
            two_factor_restore(request)  # a visit ended by the staff's own pages
            return self.get_response(request)
        if not request.user.is_authenticated:
            request.session.pop(VISIT_SESSION_KEY, None)
            request.session.pop(VISIT_DEVICE_KEY, None)
            return self.get_response(request)

        now = timezone.now()
        session = visit_state(
            session_id=session_id,
            user=request.user,
            now=now,
            read=read_with_user_results(request.user).get(VISIT_READ),
        )
        if session is not None:
            session.staff_user = request.user  # the same row; spares a query
        reason = (
            EndReason.EXIT if session is None else end_reason(session, user=request.user, now=now)
        )
        if reason is not None:
            if session is not None:
                ended_now = visit_end(visit=session, reason=reason)
                label = EndReason(reason).label
                if ended_now or reason != EndReason.EXIT:
                    messages.warning(
                        request,
                        _("Your visit to %(account)s has ended: %(reason)s.")
                        % {"account": session.account.name, "reason": label},
                    )
            return leave_account(request, session)

        context = context_of(request)
        context.actor = RepresentativeActor.for_session(session)
        context.account = session.account
        context.visit = session
        # Only the merchant site is the merchant's business: the staff's own admin pages
        # (signing out, say) are not written to the account's history.
        if in_staff_admin(request):
            two_factor_restore(request)
            return self.get_response(request)
        two_factor_set_aside(request)
        if request.method in SAFE_METHODS:
            response = self.get_response(request)
            if is_page_view(request, response):
                page_view_record(request, session, response)
            return response
        return self._audited(request, session)

    def _audited(self, request: HttpRequest, session: RepresentativeSession) -> HttpResponse:
        """A representative's change and its `action performed` row commit together or not
        at all; every POST is recorded whatever it answers (DESIGN §5.7). A view that writes
        its own row (a refusal, leaving) turns `audited` off. A 5xx rolls the change back and
        is recorded after, as an attempt that changed nothing."""
        with transaction.atomic():
            response = self.get_response(request)
            failed = response.status_code >= 500
            if failed:
                transaction.set_rollback(True)
            elif context_of(request).audited:
                action_record(request, session, response)
        if failed and context_of(request).audited:
            action_record(request, session, response)
        return response


# Requests that are not pages a person opened: files, and the site's own background calls.
UNRECORDED_PATH_PREFIXES = (settings.STATIC_URL or "/static/", "/favicon")
_TITLE = re.compile(r"<title>\s*(.*?)\s*(?:·[^<]*)?</title>", re.S)


def is_page_view(request: HttpRequest, response: HttpResponse) -> bool:
    """A GET a person made and saw: not a redirect, a file or polling, nor a request that
    already wrote its own row (a refusal)."""
    if request.method != "GET" or not context_of(request).audited:
        return False
    if response.status_code in range(300, 400):
        return False
    return not request.path.startswith(UNRECORDED_PATH_PREFIXES)


def page_title(request: HttpRequest, response: HttpResponse) -> str:
    """The page's <title> without the site's name, else the view's name."""
    content_type = response.get("Content-Type", "")
    if not response.streaming and content_type.startswith("text/html"):
        found = _TITLE.search(response.content[:4096].decode("utf-8", "replace"))
        if found:
            return html.unescape(found.group(1)).strip()[:200]
    match = request.resolver_match
    return match.view_name if match else ""


def _request_facts(request: HttpRequest, response: HttpResponse) -> dict:
    match = request.resolver_match
    return {
        "method": request.method,
        "path": request.path,
        "result": response.status_code,
        "object_type": "page",
        "object_id": match.view_name if match else "",
    }


def page_view_record(
    request: HttpRequest, session: RepresentativeSession, response: HttpResponse
) -> None:
    """One row per page a representative opens (DESIGN §5.10), committed without waiting
    for the disk (accounts.commits; docs/operations.md says what a database crash loses)."""
    _visit_event_record(
        request,
        session,
        response,
        kind=AccessEvent.Kind.PAGE_VIEWED,
        object_label=page_title(request, response),
        wait_for_disk=False,
    )


def action_record(
    request: HttpRequest, session: RepresentativeSession, response: HttpResponse
) -> None:
    """What a representative's POST did: the view's own words (`describe_action`), else the
    method and address — whatever the status, so that no change goes unrecorded."""
    summary = context_of(request).action_summary
    _visit_event_record(
        request,
        session,
        response,
        kind=AccessEvent.Kind.ACTION_PERFORMED,
        payload={"action": str(summary)} if summary else {},
    )


def _visit_event_record(
    request: HttpRequest,
    session: RepresentativeSession,
    response: HttpResponse,
    *,
    kind: str,
    **facts,
) -> None:
    event_record(
        account=session.account,
        kind=kind,
        actor=request.latchkey.actor,
        grant=session.grant,
        session=session,
        **_request_facts(request, response),
        **facts,
    )
