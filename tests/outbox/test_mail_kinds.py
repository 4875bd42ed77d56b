"""Every security and access mail goes through the outbox, and only through it."""

import datetime as dt
import re
from pathlib import Path

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.actors import MemberActor
from accounts.models import Membership
from accounts.roles import Role
from accounts.services.mfa import mfa_reset_member
from accounts.services.team import invitation_create
from outbox.models import OutboxMessage
from outbox.services import outbox_drain
from remote_access.services import (
    access_grant,
    access_remove,
    expiry_warnings_queue,
    grants_expire_due,
    remote_access_disable,
)
from tests.accounts.factories import MembershipFactory
from tests.remote_access.factories import GrantFactory

ROOT = Path(__file__).resolve().parent.parent.parent
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

EVERY_KIND = {
    "access_granted",
    "access_replaced",
    "access_removed",
    "access_disabled",
    "access_expiring",
    "access_expired",
    "invitation",
    "mfa_reset",
    "password_reset",
}


def test_every_security_mail_lands_in_the_outbox(
    account, owner, admin, other_account, other_owner, csm, time_machine
):
    """Grant, replace, remove, turn off, warning, expiry, invitation, MFA reset and password
    reset each write an outbox row; nothing is mailed until the outbox is delivered."""
    time_machine.move_to(NOW, tick=False)
    actor = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    first = access_grant(account=account, actor=actor, duration="7d")
    second = access_grant(
        account=account, actor=actor, duration="30d", expected_current_grant_id=first.pk
    )
    access_remove(account=account, actor=actor, grant_id=second.pk)
    access_grant(account=account, actor=actor, duration="7d")
    remote_access_disable(account=account, staff_user=csm, reason="Merchant asked, ticket 9")
    GrantFactory(  # ends within a day
        account=other_account,
        granted_by=other_owner,
        granted_at=NOW - dt.timedelta(days=6, hours=12),
        expires_at=NOW + dt.timedelta(hours=12),
    )
    expiry_warnings_queue()
    third = MembershipFactory(role=Role.OWNER, user__email="owner@third.test")
    GrantFactory(  # ended an hour ago
        account=third.account,
        granted_by=third.user,
        granted_at=NOW - dt.timedelta(days=7, hours=1),
        expires_at=NOW - dt.timedelta(hours=1),
    )
    grants_expire_due()
    invitation_create(account=account, actor=actor, email="new@acme.test", role=Role.ANALYST)
    admin_member = Membership.objects.get(account=account, user=admin)
    mfa_reset_member(account=account, actor=actor, member_id=admin_member.pk)
    Client().post(reverse("accounts:password_reset"), {"email": "owner@acme.test"})

    assert set(OutboxMessage.objects.values_list("kind", flat=True)) == EVERY_KIND
    assert mail.outbox == []  # nothing left any other way
    outbox_drain()
    assert OutboxMessage.objects.exclude(status="sent").count() == 0
    assert len(mail.outbox) == OutboxMessage.objects.count()


# Sending mail means importing django.core.mail; only the outbox may do it.
MAIL_SENDING = re.compile(
    r"from django\.core\.mail\b|from django\.core import mail\b|import django\.core\.mail\b"
    r"|\bsend_mass_mail\(|\bmail_admins\(|\bmail_managers\("
    r"|\bEmailMessage\(|\bEmailMultiAlternatives\(|\.send_messages\("
)


def test_no_mail_sent_outside_the_outbox():
    """A new send_mail / EmailMessage.send call site outside outbox/ fails this test."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "node_modules", "outbox", "tests", "bench", "var"}:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if MAIL_SENDING.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
    # The pattern does find a sender: the outbox's own.
    assert MAIL_SENDING.search((ROOT / "outbox" / "services" / "delivery.py").read_text())


def test_account_name_with_line_breaks__mail_still_sent_on_one_header_line(
    account, owner, django_capture_on_commit_callbacks
):
    """An account called "Shop\\r\\nBcc: …" cannot add a header or a recipient, and the
    Owners still get their mail."""
    account.name = "Acme\r\nBcc: thief@evil.test"
    account.save(update_fields=["name"])
    actor = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        access_grant(account=account, actor=actor, duration="7d")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "Latchkey support can now access Acme Bcc: thief@evil.test"
    assert sent.recipients() == ["owner@acme.test"]
    headers = sent.message().as_string().split("\n\n", 1)[0]
    assert "\nBcc:" not in headers
    assert OutboxMessage.objects.get().status == "sent"


def test_outbox_is_the_lowest_layer():
    """outbox imports Django and Celery only; the apps that write mail import it."""
    project_import = re.compile(r"^\s*(from|import) (accounts|remote_access|audience|config)\b")
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in (ROOT / "outbox").rglob("*.py")
        for line in path.read_text().splitlines()
        if project_import.match(line)
    ]
    assert offenders == []
