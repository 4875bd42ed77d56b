import datetime as dt
import io
import threading
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.roles import Role
from outbox.models import OutboxMessage
from outbox.tasks import outbox_deliver
from remote_access.events import describe
from remote_access.models import AccessEvent, RemoteAccessGrant
from remote_access.services import expiry_warnings_queue, grants_expire_due
from remote_access.tasks import expire_grants
from tests.accounts.factories import AccountFactory, MembershipFactory
from tests.remote_access.factories import GrantFactory
from tests.transactions import transaction_held_open

Status = RemoteAccessGrant.Status
EXPIRES = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def grant(account, owner, admin):
    return GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=EXPIRES - dt.timedelta(days=7),
        expires_at=EXPIRES,
    )


@pytest.mark.parametrize(
    ("moment", "expired"),
    [
        (EXPIRES - dt.timedelta(microseconds=1), False),
        (EXPIRES, True),
        (EXPIRES + dt.timedelta(seconds=1), True),
    ],
)
def test_expire__at_just_before_and_just_after_expiry(
    grant, moment, expired, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(moment, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        count = grants_expire_due()
    grant.refresh_from_db()
    assert count == int(expired)
    assert (grant.status == Status.EXPIRED) is expired
    if expired:
        assert grant.ended_at == EXPIRES
        event = AccessEvent.objects.get(grant=grant)
        assert (event.kind, describe(event), event.created_at) == (
            "expired",
            "Access expired",
            EXPIRES,
        )
        assert len(mail.outbox) == 1
        assert sorted(mail.outbox[0].to) == ["admin@acme.test", "owner@acme.test"]
        assert "has ended" in mail.outbox[0].subject
    else:
        assert not AccessEvent.objects.exists()
        assert mail.outbox == []


def test_expire__access_ends_on_time_without_the_task(grant, owner, owner_client, time_machine):
    """Liveness is the clock's: with beat down, the page shows no access at expires_at."""
    time_machine.move_to(EXPIRES - dt.timedelta(seconds=1), tick=False)
    owner_client.force_login(owner)  # signed in then: a merchant session ends after idle hours
    assert "Access is on" in owner_client.get(reverse("remote_access:security")).content.decode()
    time_machine.move_to(EXPIRES, tick=False)
    assert "No access" in owner_client.get(reverse("remote_access:security")).content.decode()
    grant.refresh_from_db()
    assert grant.status == Status.ACTIVE  # nobody tidied up yet, and it does not matter


def test_expire__runs_twice_expires_once(grant, time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(EXPIRES + dt.timedelta(minutes=5), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert grants_expire_due() == 1
        assert grants_expire_due() == 0
    assert AccessEvent.objects.filter(kind="expired").count() == 1
    assert len(mail.outbox) == 1


def test_expire__notice_is_mailed_once_even_if_delivery_runs_again(grant, time_machine):
    """The notice is an outbox row: delivering twice (a redelivered task) sends it once."""
    time_machine.move_to(EXPIRES + dt.timedelta(minutes=1), tick=False)
    grants_expire_due()
    outbox_deliver()
    outbox_deliver()
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get(kind="access_expired").status == "sent"


def test_expire__batches_handle_a_backlog_larger_than_a_batch(db, time_machine):
    time_machine.move_to(EXPIRES + dt.timedelta(hours=1), tick=False)
    grants = [
        GrantFactory(granted_at=EXPIRES - dt.timedelta(days=1), expires_at=EXPIRES)
        for _ in range(7)
    ]
    live = GrantFactory(granted_at=EXPIRES, expires_at=EXPIRES + dt.timedelta(days=2))
    assert grants_expire_due(batch_size=3) == 7
    assert RemoteAccessGrant.objects.filter(status=Status.EXPIRED).count() == len(grants)
    live.refresh_from_db()
    assert live.status == Status.ACTIVE


def test_expire_grants_command__same_service(grant, time_machine):
    time_machine.move_to(EXPIRES + dt.timedelta(minutes=1), tick=False)
    out = io.StringIO()
    call_command("expire_grants", stdout=out)
    assert out.getvalue().strip() == "Expired 1 grant(s)."
    grant.refresh_from_db()
    assert grant.status == Status.EXPIRED


def test_expire_grants_task__same_service(grant, time_machine):
    time_machine.move_to(EXPIRES + dt.timedelta(minutes=1), tick=False)
    assert expire_grants.delay().get() == 1


def test_beat_schedule__runs_expiry_every_minute_and_warnings_hourly(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["expire-grants"]["task"] == "remote_access.tasks.expire_grants"
    assert schedule["expire-grants"]["schedule"] == 60.0
    assert schedule["warn-expiring-grants"]["task"] == "remote_access.tasks.warn_expiring_grants"


# --- the day-before warning ------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "warned"),
    [
        (EXPIRES - dt.timedelta(hours=25), False),
        (EXPIRES - dt.timedelta(hours=24), True),
        (EXPIRES - dt.timedelta(hours=2), True),
        (EXPIRES, False),  # already over: the expiry notice speaks instead
    ],
)
def test_warning__sent_within_the_last_day(
    grant, moment, warned, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(moment, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        expiry_warnings_queue()
    assert len(mail.outbox) == int(warned)
    if warned:
        assert "ends within a day" in mail.outbox[0].subject
        assert "/grant-access" in mail.outbox[0].body


def test_warning__never_twice_for_the_same_grant(
    grant, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(EXPIRES - dt.timedelta(hours=20), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert expiry_warnings_queue() == 1
    time_machine.move_to(EXPIRES - dt.timedelta(hours=19), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert expiry_warnings_queue() == 0
    assert len(mail.outbox) == 1


def test_warning__not_for_a_one_day_grant(
    account, owner, time_machine, django_capture_on_commit_callbacks
):
    GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=EXPIRES - dt.timedelta(days=1),
        expires_at=EXPIRES,
    )
    time_machine.move_to(EXPIRES - dt.timedelta(hours=12), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert expiry_warnings_queue() == 0
    assert mail.outbox == []


def test_failed_mail__does_not_roll_back_the_expiry(
    grant, time_machine, settings, closed_port, django_capture_on_commit_callbacks
):
    """The mail server refuses (a closed port): the grant expired all the same, its notice
    waits in the outbox for the retry."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    time_machine.move_to(EXPIRES + dt.timedelta(minutes=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        grants_expire_due()
    grant.refresh_from_db()
    assert grant.status == Status.EXPIRED
    assert AccessEvent.objects.filter(grant=grant, kind="expired").count() == 1
    notice = OutboxMessage.objects.get(kind="access_expired")
    assert (notice.status, notice.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in notice.last_error


def test_expiry_notice__lost_kick_is_sent_by_the_drain(grant, time_machine):
    """If the broker was down when the sweep committed, beat's next drain sends it, once."""
    time_machine.move_to(EXPIRES + dt.timedelta(minutes=1), tick=False)
    grants_expire_due()  # its on-commit kick is dropped: nothing captures it
    assert mail.outbox == []
    time_machine.move_to(EXPIRES + dt.timedelta(days=30), tick=False)  # never too old to send
    outbox_deliver.delay().get()
    assert len(mail.outbox) == 1
    outbox_deliver.delay().get()
    assert len(mail.outbox) == 1


# --- concurrency and a real worker -----------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_expire__two_runs_racing_expire_each_grant_once():
    past = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for _ in range(300):
        GrantFactory(granted_at=past - dt.timedelta(days=1), expires_at=past)
    barrier = threading.Barrier(3)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(grants_expire_due(batch_size=25))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(results) == 300
    assert RemoteAccessGrant.objects.filter(status=Status.EXPIRED).count() == 300
    assert AccessEvent.objects.filter(kind="expired").count() == 300
    assert AccessEvent.objects.values("grant").distinct().count() == 300, (
        "every grant has exactly one expiry event"
    )
    notices = OutboxMessage.objects.filter(kind="access_expired")
    assert notices.count() == 300
    assert len({notice.payload["grant_id"] for notice in notices}) == 300, (
        "every grant has exactly one notice"
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_expire__a_grant_locked_by_a_service_is_left_to_it():
    """The sweep skips a grant whose row another transaction holds (an owner removing it),
    neither waiting nor expiring it; once that transaction has ended the grant, no later
    sweep expires, logs or announces it."""
    past = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    grants = [
        GrantFactory(granted_at=past - dt.timedelta(days=1), expires_at=past) for _ in range(3)
    ]
    held = grants[1]
    try:
        with transaction_held_open(
            lambda: RemoteAccessGrant.objects.select_for_update().get(pk=held.pk),
            before_commit=lambda: RemoteAccessGrant.objects.filter(pk=held.pk).update(
                status=Status.REVOKED
            ),
        ):
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '5s'")  # waiting for the row is an error here
            assert grants_expire_due() == 2
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert grants_expire_due() == 0
    held.refresh_from_db()
    assert held.status == Status.REVOKED
    expired = {grants[0].pk, grants[2].pk}
    assert (
        set(RemoteAccessGrant.objects.filter(status=Status.EXPIRED).values_list("pk", flat=True))
        == expired
    )
    assert (
        set(AccessEvent.objects.filter(kind="expired").values_list("grant", flat=True)) == expired
    )
    notices = OutboxMessage.objects.filter(kind="access_expired")
    assert sorted(notice.payload["grant_id"] for notice in notices) == sorted(expired)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_expire__end_to_end_with_a_real_worker_on_redis(settings):
    """Beat's task, through Redis, on a real worker: the grant expires and the mail goes out."""
    from celery.contrib.testing.worker import start_worker

    from config.celery_app import app

    account = AccountFactory(name="Acme Store")
    owner = MembershipFactory(account=account, role=Role.OWNER, user__email="owner@acme.test").user
    grant = GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        expires_at=dt.datetime(2026, 1, 8, tzinfo=dt.UTC),
    )
    assert app.conf.broker_url.startswith("redis://")
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            expire_grants.delay()
            deadline = time.monotonic() + 30
            while not mail.outbox and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        app.conf.task_always_eager = True
    grant.refresh_from_db()
    assert grant.status == Status.EXPIRED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@acme.test"]


def test_beat_stopped__representative_refused_at_expires_at(
    account, owner, support_staff, client_for, time_machine
):
    """No task runs here at all: the representative's next request after expiry ends it."""
    grant = GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=EXPIRES - dt.timedelta(days=7),
        expires_at=EXPIRES,
    )
    time_machine.move_to(EXPIRES - dt.timedelta(minutes=5), tick=False)
    client = client_for(support_staff)
    enter = reverse("admin:accounts_account_enter", args=[account.pk])
    assert client.post(enter, {"ticket_reference": "7"}).status_code == 302
    assert client.get("/").status_code == 200
    time_machine.move_to(EXPIRES, tick=False)
    assert client.get("/").status_code == 302
    grant.refresh_from_db()
    assert grant.status == Status.ACTIVE  # untouched by any sweep
    assert grant.representative_sessions.get().end_reason == "expired"
