"""What /readyz checks. Each check returns None when healthy, else why not, in plain words.

No check shows an exception's text to the caller (that stays in the log): the endpoint
answers anyone who can reach it.
"""

import datetime as dt
import logging

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from .models import Heartbeat
from .services import BEAT

logger = logging.getLogger(__name__)


def database_problem() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # whatever the driver raises, the answer is "not ready"
        logger.warning("Readiness: database check failed: %s", type(error).__name__)
        return "the database does not answer"
    return None


def broker_problem() -> str | None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None  # the embedded development broker needs no server
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        socket_timeout=settings.REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    except Exception as error:  # refused, timed out, refused auth: all mean "not ready"
        logger.warning("Readiness: broker check failed: %s", type(error).__name__)
        return "the broker (Redis) does not answer"
    finally:
        client.close()
    return None


def beat_problem() -> str | None:
    limit = dt.timedelta(seconds=settings.READYZ_BEAT_MAX_AGE_SECONDS)
    try:
        last = Heartbeat.objects.filter(name=BEAT).values_list("at", flat=True).first()
    except Exception as error:  # the database check names the cause
        logger.warning("Readiness: heartbeat read failed: %s", type(error).__name__)
        return "the heartbeat cannot be read"
    if last is None:
        return "no heartbeat yet: beat (or every worker) has never run"
    age = timezone.now() - last
    if age > limit:
        return (
            f"last heartbeat {int(age.total_seconds())} s ago (limit {int(limit.total_seconds())}"
            " s): beat, the broker or every worker is down"
        )
    return None


CHECKS = {"database": database_problem, "broker": broker_problem, "beat": beat_problem}
