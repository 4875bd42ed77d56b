"""Delivering the outbox: claimed batches, one SMTP connection each, retried with backoff.

Workers claim rows in small batches (SKIP LOCKED: two workers never hold the same row), send
them, and record the outcome; a failed send is retried with exponential backoff and, after
OUTBOX_MAX_ATTEMPTS, marked failed for an operator to see in admin. Nothing is ever dropped
because it is old.
"""

import contextlib
import datetime as dt
import logging
import smtplib
import time
import uuid
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import OutboxMessage
from ..renderers import Mail, renderer_for
from ..subjects import subject_line

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status

# The server refused this one mail (a recipient, the sender, the data): try the next mail.
# Any other OSError (refused connection, timeout, dropped connection) means the server is
# away: stop the batch instead of waiting EMAIL_TIMEOUT once per mail.
_MESSAGE_ERRORS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
)


@dataclass
class Delivery:
    """What one batch did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    handed_back: int = 0
    # The mail server could not be reached: the next batch would only wait for it again.
    server_down: bool = False


def retry_delay(attempts: int) -> dt.timedelta:
    """Wait before the next try: base, 2x base, 4x base, … up to OUTBOX_RETRY_MAX."""
    seconds = settings.OUTBOX_RETRY_BASE.total_seconds() * 2 ** max(attempts - 1, 0)
    return min(dt.timedelta(seconds=seconds), settings.OUTBOX_RETRY_MAX)


def _error_text(error: BaseException) -> str:
    # The class and the server's reply; never the mail, whose body may hold a link.
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _reply in error.recipients.values()})
        detail = f"{len(error.recipients)} recipient(s) refused, codes {codes}"
    elif isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        reply = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        detail = f"{error.smtp_code} {reply.splitlines()[0] if reply else ''}"
    else:
        detail = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {detail}".strip()[:300]


def outbox_release_stale(*, now: dt.datetime | None = None) -> int:
    """Hand back rows whose worker died while sending, once OUTBOX_CLAIM_TIMEOUT has passed.

    The claim counted an attempt, so a mail that kills its worker each time ends up failed
    instead of looping. `claimed_by` is kept: if the old worker was only slow and finishes,
    it can still record the send.
    """
    now = now or timezone.now()
    stale = OutboxMessage.objects.filter(
        status=Status.SENDING, claimed_at__lt=now - settings.OUTBOX_CLAIM_TIMEOUT
    )
    failed = stale.filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS).update(
        status=Status.FAILED, last_error="The worker sending it stopped before it finished."
    )
    return failed + stale.update(status=Status.PENDING, next_attempt_at=now)


def _claim(*, limit: int, now: dt.datetime, token: str) -> list[OutboxMessage]:
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, next_attempt_at__lte=now)
            .order_by("priority", "next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=Status.SENDING, claimed_at=now, claimed_by=token, attempts=F("attempts") + 1
        )
    return list(
        OutboxMessage.objects.filter(pk__in=ids).order_by("priority", "next_attempt_at", "id")
    )


def _render(messages: list[OutboxMessage]) -> dict[int, Mail | None | BaseException]:
    """The mail each row written without one turns into (or the error rendering it raised)."""
    by_kind: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        if not message.rendered:
            by_kind.setdefault(message.kind, []).append(message)
    mails: dict[int, Mail | None | BaseException] = {}
    for kind, rows in by_kind.items():
        render = renderer_for(kind)
        try:
            if render is None:
                raise LookupError(f"no renderer registered for {kind}")
            results = render([row.payload for row in rows])
        except Exception as error:
            logger.exception("outbox: rendering %s mail failed", kind)
            results = [error] * len(rows)
        for row, result in zip(rows, results, strict=True):
            mails[row.pk] = result
    return mails


def _finish(message: OutboxMessage, token: str, **fields) -> None:
    # Only the claim that sent it records the outcome: a worker whose claim went stale and
    # was taken over must not overwrite the new claim's result.
    OutboxMessage.objects.filter(pk=message.pk, claimed_by=token).update(**fields)


def _rendered_fields(mail: Mail | None) -> dict:
    if mail is None:
        return {}
    return {
        "rendered": True,
        "recipients": mail.to,
        "subject": subject_line(mail.subject),
        "text_body": mail.text_body,
        "html_body": mail.html_body,
    }


def _retry(
    message: OutboxMessage,
    token: str,
    error: BaseException,
    now: dt.datetime,
    result: Delivery,
    **extra,
) -> None:
    fields = {"last_error": _error_text(error), "claimed_at": None, **extra}
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        fields["status"] = Status.FAILED
        result.failed += 1
        logger.error("outbox: mail #%s failed after %s attempts", message.pk, message.attempts)
    else:
        fields["status"] = Status.PENDING
        fields["next_attempt_at"] = now + retry_delay(message.attempts)
        result.retrying += 1
    _finish(message, token, **fields)


def outbox_deliver_batch(*, limit: int | None = None) -> Delivery:
    """Claim up to `limit` (OUTBOX_BATCH_SIZE) due rows and send them over one connection.

    Sent rows are recorded together when the batch ends (one statement, not one per mail),
    also when it ends by an error or the soft time limit. Delivery is at least once: only a
    worker killed outright between sending and recording may send part of a batch twice,
    after OUTBOX_CLAIM_TIMEOUT — for mail about security, twice is better than never.
    """
    limit = limit or settings.OUTBOX_BATCH_SIZE
    now = timezone.now()
    token = uuid.uuid4().hex
    outbox_release_stale(now=now)
    messages = _claim(limit=limit, now=now, token=token)
    result = Delivery(claimed=len(messages))
    if not messages:
        return result
    rendered = _render(messages)
    started = time.monotonic()
    smtp = get_connection()
    try:
        smtp.open()
    except Exception as error:
        logger.warning("outbox: cannot reach the mail server: %s", _error_text(error))
        result.server_down = True
        for message in messages:
            _retry(message, token, error, now, result)
        return result
    sent: list[OutboxMessage] = []
    try:
        for index, message in enumerate(messages):
            if time.monotonic() - started > settings.OUTBOX_BATCH_BUDGET.total_seconds():
                # Keep well inside the task's time limit: the rest go back, unattempted.
                rest = [row.pk for row in messages[index:]]
                OutboxMessage.objects.filter(pk__in=rest, claimed_by=token).update(
                    status=Status.PENDING, attempts=F("attempts") - 1, claimed_at=None
                )
                result.handed_back += len(rest)
                break
            mail = _mail_of(message, rendered)
            if isinstance(mail, BaseException):
                _retry(message, token, mail, now, result)
                continue
            if mail is None:
                _finish(message, token, status=Status.SKIPPED, claimed_at=None)
                result.skipped += 1
                continue
            try:
                _send(smtp, mail)
            except SoftTimeLimitExceeded:
                raise
            except _MESSAGE_ERRORS as error:
                # Keep what was rendered, so admin shows the mail that failed.
                _retry(message, token, error, now, result, **_rendered_fields(mail))
                continue
            except OSError as error:
                logger.warning("outbox: the mail server went away: %s", _error_text(error))
                result.server_down = True
                for row in messages[index:]:
                    _retry(row, token, error, now, result)
                break
            except Exception as error:
                logger.exception("outbox: mail #%s could not be sent", message.pk)
                _retry(message, token, error, now, result)
                continue
            sent.append(message)
    finally:
        _record_sent(sent, token)
        result.sent = len(sent)
        # Closing a connection that already broke may raise again; the outcome is recorded.
        with contextlib.suppress(Exception):
            smtp.close()
    return result


def _record_sent(sent: list[OutboxMessage], token: str) -> None:
    if not sent:
        return
    rows = OutboxMessage.objects.filter(pk__in=[message.pk for message in sent], claimed_by=token)
    fields = {
        "status": Status.SENT,
        "sent_at": timezone.now(),
        "claimed_at": None,
        "last_error": "",
    }
    rows.filter(confidential=False).update(**fields)
    # One-time links do not outlive their sending.
    rows.filter(confidential=True).update(text_body="", html_body="", **fields)


def _mail_of(
    message: OutboxMessage, rendered: dict[int, Mail | None | BaseException]
) -> Mail | None | BaseException:
    if not message.rendered:
        return rendered.get(message.pk)
    return Mail(
        to=message.recipients,
        subject=message.subject,
        text_body=message.text_body,
        html_body=message.html_body,
    )


def _send(smtp, mail: Mail) -> None:
    email = EmailMultiAlternatives(
        subject=subject_line(mail.subject), body=mail.text_body, to=mail.to, connection=smtp
    )
    if mail.html_body:
        email.attach_alternative(mail.html_body, "text/html")
    smtp.send_messages([email])


def outbox_drain(*, max_batches: int | None = None) -> Delivery:
    """Deliver batch after batch until nothing is due or the mail server is away (what
    cron's `send_outbox` runs); mail not tried yet waits for the next run."""
    total = Delivery()
    batches = 0
    while max_batches is None or batches < max_batches:
        batch = outbox_deliver_batch()
        for name in ("claimed", "sent", "retrying", "failed", "skipped", "handed_back"):
            setattr(total, name, getattr(total, name) + getattr(batch, name))
        total.server_down = batch.server_down
        batches += 1
        if batch.claimed < settings.OUTBOX_BATCH_SIZE or batch.server_down:
            break
    return total
