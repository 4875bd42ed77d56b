"""An import whose worker dies is resumed after its last committed batch, or given up clearly."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audience import importing
from audience.models import ImportChunk, ImportJob, ImportRejection, ImportSeenEmail, Profile
from tests.audience.factories import ImportJobFactory
from tests.audience.test_import import upload

ROOT = Path(__file__).resolve().parents[2]


def stored_file(job: ImportJob) -> bytes:
    chunks = ImportChunk.objects.filter(job=job).order_by("seq").values_list("data", flat=True)
    return b"".join(bytes(chunk) for chunk in chunks)


def test_import__a_redelivered_task_leaves_a_live_workers_job_alone(account, owner):
    """RUNNING with a fresh heartbeat belongs to a live worker: neither the task nor the
    sweep touches it."""
    job = ImportJobFactory(
        account=account, created_by=owner, status="running", heartbeat_at=timezone.now()
    )
    assert importing.import_run(job_id=job.pk) is None
    assert importing.import_recover_stalled() == []
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == ("running", 0)


def test_import__a_dead_workers_job_is_taken_over_by_the_redelivered_task(account, owner):
    """RUNNING with a stale heartbeat: the task resumes it instead of returning early."""
    job = ImportJobFactory(
        account=account,
        created_by=owner,
        status="running",
        attempts=1,
        heartbeat_at=timezone.now() - dt.timedelta(minutes=3),
    )
    assert importing.import_recover_stalled() == [job.pk]
    finished = importing.import_run(job_id=job.pk)
    assert finished is not None
    assert (finished.status, finished.attempts, finished.created_count) == ("done", 2, 1)
    assert not ImportSeenEmail.objects.filter(job=job).exists()


def test_import__given_up_after_three_lost_workers_then_started_again(owner_client, account, owner):
    """A job whose worker dies again and again fails with a clear message and a "Start
    again" button that shows the preview of the same file."""
    job = ImportJobFactory(
        account=account,
        created_by=owner,
        status="running",
        attempts=importing.MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - dt.timedelta(minutes=3),
    )
    assert importing.import_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == str(importing.IMPORT_GAVE_UP % {"attempts": 3})
    page = owner_client.get(reverse("audience:import_detail", args=[job.pk])).content.decode()
    assert "Start again" in page
    response = owner_client.post(reverse("audience:import_again", args=[job.pk]))
    fresh = ImportJob.objects.latest("pk")
    assert fresh.pk != job.pk
    assert response.url == reverse("audience:import_detail", args=[fresh.pk])
    assert (fresh.status, fresh.mapping, fresh.total_rows) == ("preview", job.mapping, 1)
    assert stored_file(fresh) == stored_file(job) == b"email\na@example.com\n"
    assert importing.import_plan(job=fresh).new_emails == 1


def test_import__only_a_failed_import_starts_again(owner_client, account, owner):
    job = ImportJobFactory(account=account, created_by=owner, status="done")
    response = owner_client.post(reverse("audience:import_again", args=[job.pk]), follow=True)
    assert "Only a failed import can be started again." in response.content.decode()
    assert ImportJob.objects.count() == 1


def test_import__beat_runs_the_recovery_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["recover-imports"]
    assert entry["task"] == "audience.tasks.recover_imports"
    assert entry["schedule"] == 60.0


def _worker_process() -> subprocess.Popen:
    """A real Celery worker in its own process group, on the test database and Redis."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
    }
    return subprocess.Popen(  # noqa: S603 - fixed arguments, no user input
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker"),
            *("--pool", "solo", "--without-mingle", "--without-gossip", "-l", "warning"),
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_import__worker_killed_mid_import_is_resumed_without_duplicates():
    """SIGKILL the worker mid-import; the sweep re-queues the job once its heartbeat is stale,
    a new worker resumes after the last committed batch, and every valid row is there once."""
    from celery.contrib.testing.worker import start_worker
    from django.test import Client

    from accounts.roles import Role
    from audience.tasks import import_profiles, recover_imports
    from config.celery_app import app
    from tests.accounts.factories import AccountFactory, MembershipFactory

    account = AccountFactory(plan="pro")
    owner = MembershipFactory(account=account, role=Role.OWNER).user
    client = Client()
    client.force_login(owner)
    rows, valid = [], set()
    for n in range(30_000):
        if n % 1000 == 999:
            rows.append(f"not-an-email-{n},X")  # rejected
        elif n % 700 == 699:
            rows.append(f"person{n - 699}@example.com,Again")  # same email as an earlier row
        else:
            rows.append(f"person{n}@example.com,P{n}")
            valid.add(f"person{n}@example.com")
    content = ("email,first_name\n" + "\n".join(rows) + "\n").encode()
    assert upload(client, content).status_code == 302
    job = ImportJob.objects.get()

    app.conf.task_always_eager = False
    worker = _worker_process()
    try:
        client.post(reverse("audience:import_start", args=[job.pk]))
        _wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, processed_rows__gte=3000).exists(),
            180,
            "the worker to commit a few batches",
        )
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        job.refresh_from_db()
        assert job.status == "running"
        assert 0 < job.processed_rows < job.total_rows, job.processed_rows
        assert importing.import_recover_stalled() == []  # not before the heartbeat is stale

        # Two minutes pass without a heartbeat (moved back rather than waited for).
        ImportJob.objects.filter(pk=job.pk).update(
            heartbeat_at=timezone.now() - importing.HEARTBEAT_STALE - dt.timedelta(seconds=1)
        )
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
            recover_imports.delay()
            import_profiles.delay(job_id=job.pk)  # the broker redelivering the lost message
            _wait_for(
                lambda: ImportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(),
                240,
                "the resumed import to end",
            )
    finally:
        app.conf.task_always_eager = True
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.attempts == 2
    profiles = Profile.objects.filter(account=account)
    assert profiles.count() == len(valid)
    assert set(profiles.values_list("email", flat=True)) == valid
    assert (job.created_count, job.updated_count) == (len(valid), 0)
    assert job.processed_rows == job.total_rows == 30_000
    rejected_lines = list(ImportRejection.objects.filter(job=job).values_list("line", flat=True))
    assert len(rejected_lines) == len(set(rejected_lines)) == job.rejected_count
    assert job.rejected_count == 30_000 - len(valid)
    assert not ImportSeenEmail.objects.filter(job=job).exists()
