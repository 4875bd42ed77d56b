"""Celery tasks: thin interfaces that fetch by id and call a service."""

import logging
import smtplib

from celery import shared_task

from .mail import access_change_mail_send

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
    soft_time_limit=30,
    time_limit=60,
)
def send_access_change_mail(*, grant_id: int, change: str) -> None:
    access_change_mail_send(grant_id=grant_id, change=change)
