"""Mail to an account's Owners and Admins when its support access changes."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import owners_and_admins

from .models import AccessEvent, RemoteAccessGrant

SUBJECTS = {
    "granted": "{vendor} support can now access {account}",
    "replaced": "{vendor} support access to {account} was changed",
    "removed": "{vendor} support access to {account} was removed",
    "expired": "{vendor} support access to {account} has ended",
    "expiring": "{vendor} support access to {account} ends within a day",
    "disabled": "{vendor} support turned remote access off for {account}",
}


def access_change_mail_send(*, grant_id: int, change: str) -> int:
    grant = (
        RemoteAccessGrant.objects.select_related("account", "granted_by", "ended_by")
        .filter(pk=grant_id)
        .first()
    )
    if grant is None or change not in SUBJECTS:
        return 0
    recipients = list(owners_and_admins(account=grant.account).values_list("email", flat=True))
    if not recipients:
        return 0
    context = {
        "grant": grant,
        "account": grant.account,
        "change": change,
        "VENDOR_NAME": settings.VENDOR_NAME,
        "security_url": settings.SITE_URL.rstrip("/") + reverse("remote_access:grant_access_link"),
    }
    with timezone.override(grant.account.timezone):
        text = render_to_string("remote_access/email/access_change.txt", context)
        html = render_to_string("remote_access/email/access_change.html", context)
    subject = SUBJECTS[change].format(vendor=settings.VENDOR_NAME, account=grant.account.name)
    message = EmailMultiAlternatives(subject=subject, body=text, to=recipients)
    message.attach_alternative(html, "text/html")
    return message.send()


def expiry_notice_send(*, grant_id: int) -> bool:
    """Mail the "access has ended" notice for an expired grant, once however often it is asked.

    The claim and the send share a transaction: if sending fails, the claim is undone and a
    retry sends it; if it was sent, a redelivered task finds it claimed and does nothing.
    """
    with transaction.atomic():
        claimed = RemoteAccessGrant.objects.filter(
            pk=grant_id,
            status=RemoteAccessGrant.Status.EXPIRED,
            expiry_notice_sent_at__isnull=True,
        ).update(expiry_notice_sent_at=timezone.now())
        if claimed:
            access_change_mail_send(grant_id=grant_id, change="expired")
    return bool(claimed)


ASK_SUBJECT = "{name} asks you to grant {vendor} support access to {account}"


def access_ask_mail_send(*, event_id: int) -> int:
    """Mail the Owners and Admins that a teammate asks them to grant support access."""
    event = (
        AccessEvent.objects.select_related("account", "actor")
        .filter(pk=event_id, kind=AccessEvent.Kind.ACCESS_ASKED)
        .first()
    )
    if event is None or event.actor is None:
        return 0
    account = event.account
    recipients = list(owners_and_admins(account=account).values_list("email", flat=True))
    if not recipients:
        return 0
    asker = event.actor.full_name or event.actor.email
    context = {
        "account": account,
        "asker": event.actor,
        "VENDOR_NAME": settings.VENDOR_NAME,
        "security_url": settings.SITE_URL.rstrip("/") + reverse("remote_access:grant_access_link"),
    }
    text = render_to_string("remote_access/email/access_ask.txt", context)
    subject = ASK_SUBJECT.format(name=asker, vendor=settings.VENDOR_NAME, account=account.name)
    message = EmailMultiAlternatives(subject=subject, body=text, to=recipients)
    return message.send()
