from celery import shared_task

from .services import heartbeat_record


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Scheduled by beat every minute. Its row is fresh only if beat, the broker and a worker
    all work, which is what /readyz reports as "beat"."""
    heartbeat_record()
