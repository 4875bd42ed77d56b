"""/readyz names what is down: the broker (a real Redis, killed) or beat (an old heartbeat)."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from health.models import Heartbeat
from health.services import heartbeat_record
from health.tasks import beat_heartbeat

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker_up(private_redis, use_redis):
    use_redis(private_redis.url)
    return private_redis


def readiness(client):
    response = client.get("/readyz")
    return response.status_code, response.json()


def test_readyz__everything_up(broker_up, client):
    heartbeat_record()
    status, body = readiness(client)
    assert status == 200
    assert body == {
        "status": "ok",
        "failing": [],
        "checks": {"database": "ok", "broker": "ok", "beat": "ok"},
    }


def test_readyz__broker_killed_is_named(broker_up, client):
    heartbeat_record()
    broker_up.stop()
    status, body = readiness(client)
    assert status == 503
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"] == "the broker (Redis) does not answer"


def test_readyz__old_heartbeat_names_beat(broker_up, client):
    Heartbeat.objects.create(name="beat", at=timezone.now() - dt.timedelta(minutes=10))
    status, body = readiness(client)
    assert status == 503
    assert body["failing"] == ["beat"]
    assert "last heartbeat 600 s ago" in body["checks"]["beat"]


def test_readyz__beat_never_ran_names_beat(broker_up, client):
    status, body = readiness(client)
    assert (status, body["failing"]) == (503, ["beat"])


def test_readyz__stuck_broker_answers_quickly(silent_redis, use_redis, client):
    use_redis(silent_redis.url)
    heartbeat_record()
    started = time.monotonic()
    status, body = readiness(client)
    assert time.monotonic() - started < 5
    assert (status, body["failing"]) == (503, ["broker"])


def test_heartbeat__written_by_a_real_worker_through_the_broker(broker_up, client):
    """The task beat schedules, queued on Redis and run by a worker, makes /readyz ready."""
    from celery.contrib.testing.worker import start_worker

    from config.celery_app import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        beat_heartbeat.delay()
        deadline = time.monotonic() + 30
        while not Heartbeat.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    status, body = readiness(client)
    assert (status, body["failing"]) == (200, [])
