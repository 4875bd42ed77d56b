"""The delivery task: one small batch per run, then the next run if more is due."""

from celery import shared_task
from django.conf import settings

from .services import outbox_deliver_batch


# A batch is at most OUTBOX_BATCH_SIZE mails and stops sending after OUTBOX_BATCH_BUDGET
# (30 s), well inside these limits. acks_late: a worker killed mid-batch leaves its rows
# claimed; they are handed back after OUTBOX_CLAIM_TIMEOUT and the redelivered task goes on.
@shared_task(bind=True, acks_late=True, soft_time_limit=60, time_limit=90)
def outbox_deliver(self) -> int:
    delivery = outbox_deliver_batch()
    # More may be due: keep draining in small tasks, so other work interleaves. (Run in
    # process, as tests do, the next run would nest inside this one: beat's drain follows.)
    # With the mail server away, the next batch would only wait for it too: beat's next run
    # tries again.
    more = delivery.claimed >= settings.OUTBOX_BATCH_SIZE and not delivery.server_down
    if more and not self.request.is_eager:
        outbox_deliver.delay()
    return delivery.sent
