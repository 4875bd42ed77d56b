from celery import shared_task

from .importing import import_recover_stalled, import_run


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def import_profiles(*, job_id: int) -> None:
    import_run(job_id=job_id)


@shared_task
def recover_imports() -> None:
    """Beat, every minute: resume imports whose worker died."""
    import_recover_stalled()
