"""A backlog of expiry notices through the outbox: how long until every one is delivered.

    python bench/mail_outbox.py [--grants 40000] [--workers 1] [--smtp]

N grants (one account each, each with an Owner) are overdue at once. The expiry sweep
expires them and writes one outbox row per grant in the same statements; then `--workers`
drains (threads, each on its own database connection, like worker processes) deliver the
outbox in batches of OUTBOX_BATCH_SIZE to Django's in-memory mail backend, which costs what
rendering and bookkeeping cost and leaves out the mail server — or, with `--smtp`, over real
SMTP to a local aiosmtpd server that accepts and counts every mail. Prints each phase's time
and the delivery rate in mails per second.
"""

import argparse
import threading
import time

from common import (
    OVERDUE_TABLES,
    counting_smtp_server,
    empty_tables,
    make_overdue_grants,
    purge_queued_tasks,
    report_row,
    setup_django,
)


def drain(workers: int) -> None:
    from django.db import connection

    from outbox.services import outbox_drain

    def run() -> None:
        try:
            outbox_drain()
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def start_smtp_server(settings):
    """Point Django's mail at a local counting SMTP server (bench/common.py)."""
    controller, counter = counting_smtp_server()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return controller, counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grants", type=int, default=40_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--smtp", action="store_true", help="deliver to a local SMTP server")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.core import mail

    from outbox.models import OutboxMessage
    from remote_access.services import grants_expire_due

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    smtp = start_smtp_server(settings) if args.smtp else None
    make_overdue_grants(args.grants, with_owners=True)

    started = time.perf_counter()
    expired = grants_expire_due()
    swept = time.perf_counter() - started
    assert expired == args.grants, (expired, args.grants)
    assert OutboxMessage.objects.filter(kind="access_expired").count() == args.grants

    started = time.perf_counter()
    drain(args.workers)
    delivered = time.perf_counter() - started
    sent = OutboxMessage.objects.filter(status="sent").count()
    if smtp is not None:
        controller, counter = smtp
        controller.stop()
        assert sent == args.grants == counter.received, (sent, counter.received)
    else:
        assert sent == args.grants == len(mail.outbox), (sent, len(mail.outbox))
        assert len({message.subject for message in mail.outbox}) == args.grants

    print(f"outbox: {args.grants} overdue grants, each expired with one notice written")
    print(f"outbox: sweep (expiry + outbox rows) {swept:.1f}s")
    print(
        f"outbox: delivery {'over SMTP' if smtp else 'in memory'} by {args.workers} worker(s), "
        f"batches of {settings.OUTBOX_BATCH_SIZE}: "
        f"{delivered:.1f}s = {args.grants / delivered:.0f} mails/s; "
        f"all {args.grants} notices out {swept + delivered:.1f}s after the sweep began"
    )
    report_row(
        f"{args.grants:,} expiry notices, sweep start to last sent ({args.workers} worker)",
        f"{swept + delivered:.0f} s ({args.grants / delivered:,.0f} mails/s)",
        "minutes, not an hour (≤ 10 min)",
        held=swept + delivered <= 600,
    )
    empty_tables(*OVERDUE_TABLES)
    purge_queued_tasks()


if __name__ == "__main__":
    main()
