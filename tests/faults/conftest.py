"""Fixtures that point the cache and the broker at a Redis the test can break."""

import kombu.pools
import pytest

from config.celery_app import app as celery_app
from config.settings.base import redis_broker_transport_options, redis_cache

from .redis_servers import PrivateRedis, SilentRedis


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def silent_redis():
    server = SilentRedis()
    yield server
    server.close()


def _forget_broker_connections() -> None:
    # kombu keeps pools of connections and producers per broker, in a registry of its own and
    # on the app: close and forget them all, so the next publish connects to the broker now
    # configured (and a later test never meets a pool closed here).
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def use_redis(settings):
    """`use_redis(url)`: the cache and the Celery broker both on that Redis, tasks queued
    for real (not run in-process), with the production client settings (short timeouts)."""
    saved = {
        key: celery_app.conf[key]
        for key in ("broker_url", "broker_transport_options", "task_always_eager")
    }

    def point_at(url: str) -> None:
        settings.CACHES = {**settings.CACHES, "default": redis_cache(url)}
        settings.CELERY_BROKER_URL = url
        celery_app.conf.update(
            broker_url=url,
            broker_transport_options=redis_broker_transport_options(),
            task_always_eager=False,
        )
        _forget_broker_connections()

    yield point_at
    celery_app.conf.update(saved)
    _forget_broker_connections()
