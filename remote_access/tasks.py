"""Celery tasks: thin interfaces that call a service.

Every task here is idempotent, so a redelivery (acks_late) is harmless. Mail is not sent
here: the services write it to the outbox, which the outbox's own task delivers.
"""

from celery import shared_task

from .services import access_requests_expire_due, expiry_warnings_queue, grants_expire_due


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def expire_grants() -> int:
    return grants_expire_due()


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def warn_expiring_grants() -> int:
    return expiry_warnings_queue()


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def expire_access_requests() -> int:
    return access_requests_expire_due()
