"""Mail to an account's Owners and Admins when its support access changes, via the outbox.

A change made by a person (grant, replace, remove, turn off) is rendered at once and written
with the change. The sweeps (expiry notices, the day-before warnings) write only the grant's
id, many rows in one statement; the renderers below turn those into mail at delivery.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.selectors import (
    owners_and_admins,
    owners_and_admins_emails,
    visit_mail_recipients,
)
from accounts.timefmt import day_text, moment
from outbox.renderers import Mail
from outbox.services import outbox_enqueue
from outbox.subjects import subject_line

from .links import escape_url
from .models import (
    AccessEvent,
    AccessRequest,
    Duration,
    RemoteAccessGrant,
    RepresentativeSession,
    Scope,
    Team,
)

SUBJECTS = {
    "granted": _("%(vendor)s support can now access %(account)s"),
    "replaced": _("%(vendor)s support access to %(account)s was changed"),
    "removed": _("%(vendor)s support access to %(account)s was removed"),
    "expired": _("%(vendor)s support access to %(account)s has ended"),
    "expiring": _("%(vendor)s support access to %(account)s ends within a day"),
    "disabled": _("%(vendor)s support turned remote access off for %(account)s"),
    "resolved": _("%(vendor)s support access to %(account)s ended: the request was resolved"),
}
VISIT_STARTED_SUBJECT = _("%(name)s from %(vendor)s Support entered %(account)s")


def mail_kind(change: str) -> str:
    """The outbox kind of an access-change mail: "access_granted", "access_expired", …"""
    return f"access_{change}"


def _access_change_mail(
    *, grant: RemoteAccessGrant, change: str, recipients: list[str]
) -> Mail | None:
    if not recipients:
        return None
    context = {
        "grant": grant,
        "account": grant.account,
        "change": change,
        "VENDOR_NAME": settings.VENDOR_NAME,
        "security_url": settings.SITE_URL.rstrip("/") + reverse("remote_access:grant_access_link"),
        # Someone who did not expect access can take it away in one click (and a sign-in).
        "escape_url": (
            escape_url(account_id=grant.account_id, grant_id=grant.pk)
            if change in ("granted", "replaced")
            else ""
        ),
    }
    with timezone.override(grant.account.timezone):
        text = render_to_string("remote_access/email/access_change.txt", context)
        html = render_to_string("remote_access/email/access_change.html", context)
    return Mail(
        to=recipients,
        subject=subject_line(
            SUBJECTS[change], vendor=settings.VENDOR_NAME, account=grant.account.name
        ),
        text_body=text,
        html_body=html,
    )


def _managers(account) -> list[str]:
    return list(owners_and_admins(account=account).values_list("email", flat=True))


def access_change_mail_enqueue(*, grant: RemoteAccessGrant, change: str) -> None:
    """Write the mail about `change` to `grant` in the caller's transaction."""
    mail = _access_change_mail(grant=grant, change=change, recipients=_managers(grant.account))
    if mail is not None:
        outbox_enqueue(
            kind=mail_kind(change),
            to=mail.to,
            subject=mail.subject,
            text_body=mail.text_body,
            html_body=mail.html_body,
            # The escape link acts on the account: erased from the outbox once sent.
            confidential=change in ("granted", "replaced"),
        )


def _render_for_grants(payloads: list[dict], *, change: str, only_live: bool) -> list[Mail | None]:
    grants = RemoteAccessGrant.objects.select_related("account", "granted_by", "ended_by").in_bulk(
        [payload["grant_id"] for payload in payloads]
    )
    managers = owners_and_admins_emails(
        account_ids=list({grant.account_id for grant in grants.values()})
    )
    mails: list[Mail | None] = []
    now = timezone.now()
    for payload in payloads:
        grant = grants.get(payload["grant_id"])
        ended = grant is None or (
            only_live
            and (grant.status != RemoteAccessGrant.Status.ACTIVE or grant.expires_at <= now)
        )
        if ended:
            # Removed, replaced or over before the warning left: it would only confuse.
            mails.append(None)
            continue
        mails.append(
            _access_change_mail(grant=grant, change=change, recipients=managers[grant.account_id])
        )
    return mails


def expiry_notices_render(payloads: list[dict]) -> list[Mail | None]:
    """The "access has ended" mails of a delivery batch (rows written by the expiry sweep)."""
    return _render_for_grants(payloads, change="expired", only_live=False)


def expiry_warnings_render(payloads: list[dict]) -> list[Mail | None]:
    """The "ends within a day" mails of a delivery batch, for grants still active."""
    return _render_for_grants(payloads, change="expiring", only_live=True)


ASK_SUBJECT = _("%(name)s asks you to grant %(vendor)s support access to %(account)s")


def access_ask_mail_enqueue(*, event: AccessEvent) -> None:
    """Write the mail telling the Owners and Admins that a teammate asks them to grant
    support access, in the caller's transaction."""
    account = event.account
    asker = event.actor.full_name or event.actor.email
    context = {
        "account": account,
        "asker": event.actor,
        "VENDOR_NAME": settings.VENDOR_NAME,
        "security_url": settings.SITE_URL.rstrip("/") + reverse("remote_access:grant_access_link"),
    }
    outbox_enqueue(
        kind="access_asked",
        to=list(owners_and_admins(account=account).values_list("email", flat=True)),
        subject=subject_line(
            ASK_SUBJECT, name=asker, vendor=settings.VENDOR_NAME, account=account.name
        ),
        text_body=render_to_string("remote_access/email/access_ask.txt", context),
    )


# --- support's requests for access ---------------------------------------------------------


def _request_period(access_request: AccessRequest) -> str:
    if access_request.duration == Duration.CUSTOM and access_request.last_day:
        return _("access until the end of %(day)s") % {"day": day_text(access_request.last_day)}
    return _("%(period)s of access") % {"period": Duration(access_request.duration).label}


def access_request_sentence(access_request: AccessRequest) -> str:
    """ "Sam from Latchkey Support asks for 7 days of access to Acme Store for ticket 4411:
    '…'": the mail's subject line and first sentence, and the Security tab's."""
    return _(
        "%(name)s from %(vendor)s %(team)s asks for %(period)s%(scope)s to %(account)s for "
        "ticket %(ticket)s: “%(reason)s”"
    ) % {
        "name": access_request.staff_user.get_short_name(),
        "vendor": settings.VENDOR_NAME,
        "team": Team(access_request.team).label,
        "period": _request_period(access_request),
        "scope": _(" (view only)") if access_request.scope == Scope.VIEW_ONLY else "",
        "account": access_request.account.name,
        "ticket": access_request.ticket_reference,
        "reason": access_request.reason,
    }


def access_request_mail_enqueue(*, access_request: AccessRequest) -> None:
    """Tell the account's Owners and Admins that support asks for access (in the caller's
    transaction)."""
    sentence = access_request_sentence(access_request)
    security_url = settings.SITE_URL.rstrip("/") + reverse("remote_access:grant_access_link")
    until = moment(access_request.expires_at, access_request.account.tzinfo)
    text = _(
        "Hello,\n\n%(sentence)s\n\nApprove or deny it on the Security tab before %(until)s, "
        "when it expires:\n%(url)s\n\nNothing changes until an Owner or Admin approves it. "
        "You get this because you are an Owner or Admin of %(account)s.\n"
    ) % {
        "sentence": sentence,
        "until": until,
        "url": security_url,
        "account": access_request.account.name,
    }
    outbox_enqueue(
        kind="access_requested",
        to=_managers(access_request.account),
        subject=subject_line(sentence),
        text_body=text,
    )


def access_request_decision_mail_enqueue(*, access_request: AccessRequest) -> None:
    """Tell the staff member who asked what the merchant decided."""
    values = {
        "name": access_request.decided_by.full_name,
        "account": access_request.account.name,
        "ticket": access_request.ticket_reference,
        "reason": access_request.deny_reason,
    }
    if access_request.status == AccessRequest.Status.APPROVED:
        subject = _("%(name)s approved your request for access to %(account)s") % values
        body = (
            _(
                "%(name)s approved your request for access to %(account)s (ticket %(ticket)s). "
                "Enter the account from its page in admin."
            )
            % values
        )
    else:
        subject = _("%(name)s denied your request for access to %(account)s") % values
        body = _("%(name)s denied your request for access to %(account)s (ticket %(ticket)s).")
        body %= values
        if access_request.deny_reason:
            body += " " + _("Their reason: “%(reason)s”") % values
    admin_url = settings.SITE_URL.rstrip("/") + reverse(
        "admin:accounts_account_change", args=[access_request.account_id]
    )
    outbox_enqueue(
        kind="access_request_decided",
        to=[access_request.staff_user.email],
        subject=subject_line(subject),
        text_body=f"{body}\n\n{admin_url}\n",
    )


def visit_started_mail_enqueue(*, visit: RepresentativeSession) -> None:
    """Tell the Owners and Admins who want it that support just entered, with the link that
    ends the visit and removes access, in the visit's transaction."""
    recipients = visit_mail_recipients(account=visit.account)
    if not recipients:
        return
    context = {
        "visit": visit,
        "account": visit.account,
        "name": visit.staff_user.get_short_name(),
        "team": Team(visit.team).label,
        "VENDOR_NAME": settings.VENDOR_NAME,
        "escape_url": escape_url(account_id=visit.account_id, visit_id=visit.pk),
    }
    with timezone.override(visit.account.timezone):
        text = render_to_string("remote_access/email/visit_started.txt", context)
        html = render_to_string("remote_access/email/visit_started.html", context)
    outbox_enqueue(
        kind="visit_started",
        to=recipients,
        subject=subject_line(
            VISIT_STARTED_SUBJECT,
            name=context["name"],
            vendor=settings.VENDOR_NAME,
            account=visit.account.name,
        ),
        text_body=text,
        html_body=html,
        confidential=True,
    )
