"""Celery tasks: thin interfaces that fetch by id and call a service.

Every task here is idempotent, so a redelivery (acks_late) is harmless.
"""

import smtplib

from celery import shared_task

from .mail import access_ask_mail_send, access_change_mail_send, expiry_notice_send
from .services import expiry_notices_requeue_owed, expiry_warnings_queue, grants_expire_due

# Mail goes out through an SMTP server that may be briefly away: retry with backoff.
MAIL_TASK_OPTIONS = {
    "autoretry_for": (smtplib.SMTPException, ConnectionError, TimeoutError, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 10,
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def expire_grants() -> int:
    expired = grants_expire_due()
    expiry_notices_requeue_owed()
    return expired


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def warn_expiring_grants() -> int:
    return expiry_warnings_queue()


@shared_task(**MAIL_TASK_OPTIONS)
def send_access_change_mail(*, grant_id: int, change: str) -> None:
    access_change_mail_send(grant_id=grant_id, change=change)


@shared_task(acks_late=True, **MAIL_TASK_OPTIONS)
def send_expiry_notices(*, grant_ids: list[int]) -> None:
    for grant_id in grant_ids:
        expiry_notice_send(grant_id=grant_id)


@shared_task(**MAIL_TASK_OPTIONS)
def send_expiry_warning(*, grant_id: int) -> None:
    access_change_mail_send(grant_id=grant_id, change="expiring")


@shared_task(**MAIL_TASK_OPTIONS)
def send_access_ask_mail(*, event_id: int) -> None:
    access_ask_mail_send(event_id=event_id)
