"""Delivery against real faults: a server that refuses one recipient, a worker killed
while it holds a batch."""

import datetime as dt
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command

from outbox.models import OutboxMessage
from outbox.services import outbox_deliver_batch, outbox_enqueue

ROOT = Path(__file__).resolve().parent.parent.parent
Status = OutboxMessage.Status


class RefusesBad:
    """An aiosmtpd handler: 550 for any recipient with "bad" in it, accepts the rest."""

    def __init__(self) -> None:
        self.received: list[list[str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if "bad" in address:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append(list(envelope.rcpt_tos))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    handler = RefusesBad()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


def test_refused_recipient__only_that_mail_waits_the_rest_go_out(db, smtp_server):
    """A real SMTP server answers 550 for one address: that mail is retried later with the
    server's reply as its error; the mails around it in the batch are delivered."""
    for address in ("one@shop.test", "bad@shop.test", "two@shop.test"):
        outbox_enqueue(kind="test", to=[address], subject=f"To {address}", text_body="Hello")
    delivery = outbox_deliver_batch()
    assert (delivery.sent, delivery.retrying) == (2, 1)
    assert smtp_server.received == [["one@shop.test"], ["two@shop.test"]]
    refused = OutboxMessage.objects.get(recipients=["bad@shop.test"])
    assert refused.status == Status.PENDING
    assert refused.last_error == "SMTPRecipientsRefused: 1 recipient(s) refused, codes [550]"
    assert "Hello" not in refused.last_error


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch__its_rows_go_out_after_the_claim_timeout(time_machine):
    """`send_outbox` in its own process claims the batch and hangs on a mail server that
    never answers; it is killed with SIGKILL. Its rows stay claimed until the timeout, then
    the next drain sends each of them once."""
    OutboxMessage.objects.bulk_create(  # written without the in-process kick of the tests
        OutboxMessage(kind="test", recipients=[f"p{n}@shop.test"], subject=f"Mail {n}")
        for n in range(3)
    )

    silent = socket.socket()  # accepts connections, never greets
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "EMAIL_URL": f"smtp://127.0.0.1:{silent.getsockname()[1]}",
        "EMAIL_TIMEOUT": "120",
    }
    worker = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "send_outbox"], cwd=ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while (
            OutboxMessage.objects.filter(status=Status.SENDING).count() < 3
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert OutboxMessage.objects.filter(status=Status.SENDING).count() == 3
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        silent.close()

    assert outbox_deliver_batch().claimed == 0  # still claimed: the worker might be slow
    time_machine.move_to(
        dt.datetime.now(tz=dt.UTC) + django_settings.OUTBOX_CLAIM_TIMEOUT + dt.timedelta(seconds=1)
    )
    delivery = outbox_deliver_batch()
    assert delivery.sent == 3
    assert sorted(message.subject for message in mail.outbox) == ["Mail 0", "Mail 1", "Mail 2"]
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 2)}


@pytest.fixture
def broker_down(closed_port):
    """Celery publishes for real, to a broker port where nothing listens."""
    from config.celery_app import app

    saved = (app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool)
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    app.conf.task_always_eager = False
    app._pool = app.amqp._producer_pool = None
    yield
    app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool = saved


def test_broker_down__grant_saved_and_its_mail_kept_for_the_drain(
    owner_client, account, broker_down, django_capture_on_commit_callbacks
):
    """The issue's lost mail: with the broker refusing, the grant is saved, the page
    answers, and the mail waits in the outbox until a drain (beat, cron) sends it."""
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/settings/security/", {"duration": "7d"})
    assert response.status_code == 302
    assert account.remote_access_grants.get().status == "active"
    row = OutboxMessage.objects.get()
    assert (row.kind, row.status) == ("access_granted", Status.PENDING)
    assert mail.outbox == []
    call_command("send_outbox", stdout=io.StringIO())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Latchkey support can now access Acme Store"
