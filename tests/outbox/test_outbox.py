"""The outbox: rows written with their change, claimed, sent once, retried, never dropped."""

import datetime as dt
import io
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from accounts.actors import MemberActor
from accounts.roles import Role
from outbox.models import OutboxMessage
from outbox.services import (
    outbox_deliver_batch,
    outbox_enqueue,
    outbox_release_stale,
    outbox_requeue,
    retry_delay,
)
from outbox.subjects import subject_line
from remote_access.models import RemoteAccessGrant
from remote_access.services import access_grant
from tests.accounts.factories import StaffUserFactory
from tests.conftest import verify_two_factor, with_authenticator

Status = OutboxMessage.Status
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def enqueue(number: int, **fields) -> OutboxMessage:
    return outbox_enqueue(
        kind="test",
        to=[f"person{number}@shop.test"],
        subject=f"Mail {number}",
        text_body=f"Body {number}",
        **fields,
    )


def owner_grants(account, owner) -> RemoteAccessGrant:
    actor = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    return access_grant(account=account, actor=actor, duration="7d")


class Boom(Exception):
    pass


# --- written with the change ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_enqueue__row_commits_with_its_change(account, owner, admin):
    """A committed grant has its mail row, addressed to Owners and Admins; the commit kicks a
    worker (in-process here) that sends it."""
    grant = owner_grants(account, owner)
    row = OutboxMessage.objects.get()
    assert row.kind == "access_granted"
    assert row.recipients == ["admin@acme.test", "owner@acme.test"]
    assert RemoteAccessGrant.objects.get().pk == grant.pk
    assert row.status == Status.SENT
    assert mail.outbox[0].to == ["admin@acme.test", "owner@acme.test"]


@pytest.mark.django_db(transaction=True)
def test_enqueue__row_vanishes_with_its_rollback(account, owner, admin):
    """A change rolled back after the mail was written leaves neither change nor mail."""

    def grant_then_fail():
        with transaction.atomic():
            owner_grants(account, owner)
            assert OutboxMessage.objects.count() == 1
            raise Boom

    with pytest.raises(Boom):
        grant_then_fail()
    assert not RemoteAccessGrant.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_enqueue__nobody_to_tell_writes_nothing(db):
    assert outbox_enqueue(kind="test", to=[""], subject="x", text_body="y") is None
    assert not OutboxMessage.objects.exists()


def test_enqueue__one_kick_per_transaction(db, django_capture_on_commit_callbacks):
    """However many rows a transaction writes, it asks a worker once."""
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for number in range(5):
            enqueue(number)
    assert len(callbacks) == 1


# --- delivery -------------------------------------------------------------------------------


def test_deliver__sends_and_records(db):
    row = enqueue(1, html_body="<p>Body 1</p>")
    delivery = outbox_deliver_batch()
    assert (delivery.claimed, delivery.sent) == (1, 1)
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.sent_at is not None
    assert (row.attempts, row.last_error) == (1, "")
    assert mail.outbox[0].to == ["person1@shop.test"]
    assert mail.outbox[0].subject == "Mail 1"
    assert mail.outbox[0].alternatives[0] == ("<p>Body 1</p>", "text/html")


def test_deliver__a_second_run_sends_nothing_again(db):
    enqueue(1)
    outbox_deliver_batch()
    assert outbox_deliver_batch().claimed == 0
    assert len(mail.outbox) == 1


def test_deliver__confidential_body_erased_once_sent(db):
    row = enqueue(1, confidential=True)
    outbox_deliver_batch()
    row.refresh_from_db()
    assert mail.outbox[0].body == "Body 1"
    assert (row.status, row.text_body, row.html_body) == (Status.SENT, "", "")
    assert row.subject == "Mail 1"


def test_deliver__people_waiting_go_before_a_bulk_backlog(db, settings):
    settings.OUTBOX_BATCH_SIZE = 3
    for number in range(5):
        enqueue(number, priority=OutboxMessage.Priority.BULK)
    enqueue(99)
    outbox_deliver_batch()
    assert mail.outbox[0].subject == "Mail 99"


def test_deliver__never_drops_old_mail(db, time_machine):
    time_machine.move_to(NOW, tick=False)
    enqueue(1)
    time_machine.move_to(NOW + dt.timedelta(days=90), tick=False)
    assert outbox_deliver_batch().sent == 1


def test_retry_delay__doubles_up_to_the_cap(settings):
    settings.OUTBOX_RETRY_BASE = dt.timedelta(minutes=1)
    settings.OUTBOX_RETRY_MAX = dt.timedelta(minutes=5)
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 300, 300]


def test_stale_claim__handed_to_another_worker_after_the_timeout(db, settings, time_machine):
    """A worker that claimed a batch and died: after OUTBOX_CLAIM_TIMEOUT the row goes out."""
    from outbox.services.delivery import _claim

    settings.OUTBOX_CLAIM_TIMEOUT = dt.timedelta(minutes=5)
    time_machine.move_to(NOW, tick=False)
    row = enqueue(1)
    assert [claimed.pk for claimed in _claim(limit=10, now=NOW, token="dead-worker")] == [row.pk]
    time_machine.move_to(NOW + dt.timedelta(minutes=4), tick=False)
    assert outbox_deliver_batch().claimed == 0  # still someone else's
    time_machine.move_to(NOW + dt.timedelta(minutes=6), tick=False)
    assert outbox_deliver_batch().sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)
    assert len(mail.outbox) == 1


def test_stale_claim__a_mail_that_kills_every_worker_ends_failed(db, settings, time_machine):
    from outbox.services.delivery import _claim

    settings.OUTBOX_MAX_ATTEMPTS = 2
    time_machine.move_to(NOW, tick=False)
    row = enqueue(1)
    for minutes in (0, 10):  # claimed twice, and both workers died mid-send
        moment = NOW + dt.timedelta(minutes=minutes)
        time_machine.move_to(moment, tick=False)
        outbox_release_stale(now=moment)
        _claim(limit=10, now=moment, token=f"dies-{minutes}")
    time_machine.move_to(NOW + dt.timedelta(minutes=20), tick=False)
    outbox_deliver_batch()
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert "worker" in row.last_error
    assert mail.outbox == []


def test_send_outbox_command__drains_everything_due(db, settings):
    settings.OUTBOX_BATCH_SIZE = 2
    for number in range(5):
        enqueue(number)
    out = io.StringIO()
    call_command("send_outbox", stdout=out)
    assert out.getvalue().strip() == "Sent 5, will retry 0, failed 0, nobody to send to 0."
    assert len(mail.outbox) == 5


def test_beat_schedule__drains_the_outbox_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["deliver-outbox"]
    assert entry["task"] == "outbox.tasks.outbox_deliver"
    assert entry["schedule"] == 60.0


# --- the mail server refuses ----------------------------------------------------------------


def test_smtp_refused__retries_with_backoff_then_fails_visibly_and_the_grant_stands(
    owner, client_for, settings, closed_port, time_machine, django_capture_on_commit_callbacks
):
    """SMTP pointed at a closed port: the grant is made; its mail is retried after 1, 2, 4
    minutes, then marked failed, shown in admin, and sent again from there once SMTP is back."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    settings.OUTBOX_MAX_ATTEMPTS = 4
    settings.OUTBOX_RETRY_BASE = dt.timedelta(minutes=1)
    time_machine.move_to(NOW, tick=False)
    owner_client = client_for(owner)  # signed in at NOW: merchant sessions time out when idle
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("remote_access:security"), {"duration": "7d"})
    assert response.status_code == 302
    assert RemoteAccessGrant.objects.get().status == RemoteAccessGrant.Status.ACTIVE
    row = OutboxMessage.objects.get()
    waits = []
    moment = NOW
    while row.status == Status.PENDING:
        assert row.attempts < 4
        assert "ConnectionRefusedError" in row.last_error
        waits.append(row.next_attempt_at - moment)
        moment = row.next_attempt_at
        time_machine.move_to(moment, tick=False)
        outbox_deliver_batch()
        row.refresh_from_db()
    assert waits == [dt.timedelta(minutes=minutes) for minutes in (1, 2, 4)]
    assert (row.status, row.attempts) == (Status.FAILED, 4)
    assert mail.outbox == []

    client = superuser_client()
    listing = client.get(reverse("admin:outbox_outboxmessage_changelist") + "?status__exact=failed")
    assert "Latchkey support can now access Acme Store" in listing.content.decode()
    assert "ConnectionRefusedError" in listing.content.decode()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:outbox_outboxmessage_changelist"),
            {"action": "send_again", "_selected_action": [row.pk]},
        )
    outbox_deliver_batch()
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert len(mail.outbox) == 1


def test_smtp_refused__the_drain_stops_instead_of_waiting_once_per_batch(db, settings, closed_port):
    """With the server away, `send_outbox` tries one batch and leaves the rest for its next
    run, rather than waiting for the server once per batch of the whole backlog."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    settings.OUTBOX_BATCH_SIZE = 10
    OutboxMessage.objects.bulk_create(
        OutboxMessage(kind="test", recipients=[f"p{n}@shop.test"], subject=f"Mail {n}")
        for n in range(25)
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("send_outbox", stdout=out, stderr=err)
    assert out.getvalue().strip() == "Sent 0, will retry 10, failed 0, nobody to send to 0."
    assert "could not be reached" in err.getvalue()
    assert OutboxMessage.objects.filter(attempts=0, status=Status.PENDING).count() == 15


def test_admin__read_only_and_hides_one_time_links(db):
    row = enqueue(1, confidential=True)
    client = superuser_client()
    detail = client.get(reverse("admin:outbox_outboxmessage_change", args=[row.pk]))
    assert detail.status_code == 200
    assert "Body 1" not in detail.content.decode()
    assert "one-time link" in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()
    assert client.get(reverse("admin:outbox_outboxmessage_add")).status_code == 403


def test_requeue__only_failed_rows(db):
    waiting, failed = enqueue(1), enqueue(2)
    OutboxMessage.objects.filter(pk=failed.pk).update(status=Status.FAILED, attempts=12)
    assert outbox_requeue(message_ids=[waiting.pk, failed.pk]) == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.PENDING, 0)


# --- subjects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Shop\r\nBcc: thief@evil.test",
        "Shop\nBcc: thief@evil.test",
        "Shop\u2028Bcc: thief@evil.test",
        "Shop\x00\x85Bcc: thief@evil.test",
    ],
)
def test_subject_line__user_text_stays_on_one_line(name):
    line = subject_line("%(vendor)s support can now access %(account)s", vendor="X", account=name)
    assert line == "X support can now access Shop Bcc: thief@evil.test"


def test_subject_line__long_text_is_cut():
    assert len(subject_line("%(name)s", name="a" * 1000)) == 250


def test_subject_line__finished_subject_with_a_percent_passes_through():
    assert subject_line("50% off\r\n") == "50% off"


# --- concurrency ----------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_send_each_row_once(settings):
    """Four workers (threads, each on its own database connection) drain 600 rows: every
    row is sent exactly once."""
    settings.OUTBOX_BATCH_SIZE = 20
    OutboxMessage.objects.bulk_create(
        OutboxMessage(kind="test", recipients=[f"p{n}@shop.test"], subject=f"Mail {n}")
        for n in range(600)
    )
    barrier = threading.Barrier(4)
    errors = []

    def worker():
        try:
            barrier.wait()
            while outbox_deliver_batch().claimed:
                pass
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    subjects = [message.subject for message in mail.outbox]
    assert len(subjects) == 600
    assert len(set(subjects)) == 600
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 600
    assert OutboxMessage.objects.values("claimed_by").distinct().count() > 4


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_backlog_of_10000__drains_in_batches_of_at_most_100_on_a_real_worker():
    """One kick on a real worker (Redis broker): the task sends ≤ 100 rows, then queues the
    next run, until all 10,000 are sent, each once, by tasks that all finished."""
    import time

    from celery.contrib.testing.worker import start_worker

    from config.celery_app import app
    from outbox.tasks import outbox_deliver

    OutboxMessage.objects.bulk_create(
        (
            OutboxMessage(kind="test", recipients=[f"p{n}@shop.test"], subject=f"Mail {n}")
            for n in range(10_000)
        ),
        batch_size=2000,
    )
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            outbox_deliver.delay()
            deadline = time.monotonic() + 300
            while len(mail.outbox) < 10_000 and time.monotonic() < deadline:
                time.sleep(0.5)
    finally:
        app.conf.task_always_eager = True
    assert len(mail.outbox) == 10_000
    assert len({message.subject for message in mail.outbox}) == 10_000
    assert not OutboxMessage.objects.exclude(status=Status.SENT).exists()
    batches = list(
        OutboxMessage.objects.values("claimed_by")
        .order_by()
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert max(batches) <= 100
    assert len(batches) >= 100


def superuser_client() -> Client:
    """A superuser in admin, signed in with two factors (admin asks for them)."""
    user = with_authenticator(StaffUserFactory(is_superuser=True))
    client = Client()
    client.force_login(user)
    verify_two_factor(client, user)
    return client
