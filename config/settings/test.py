"""Tests: fast hashing, mail in memory, tasks run in-process unless a test starts a worker.

PostgreSQL and Redis are used when DATABASE_URL / REDIS_URL are set or when the local
services answer on their standard ports; otherwise the suite runs on SQLite and the tests
marked `services` are skipped (a failure under REQUIRE_SERVICES=1).
"""

import os
import socket

os.environ.setdefault("SECRET_KEY", "django-insecure-tests-only")

from .base import *  # noqa: E402,F403
from .base import env, redis_broker_transport_options  # noqa: E402


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


_autodetect = env.bool("TEST_AUTODETECT_SERVICES", default=True)
if "DATABASE_URL" not in os.environ and _autodetect and _answers("127.0.0.1", 5432):
    DATABASES = {"default": env.db_url_config("postgres://postgres@127.0.0.1:5432/latchkey")}
else:
    DATABASES = {"default": env.db("DATABASE_URL", default="sqlite://:memory:")}
DATABASES["default"]["CONN_MAX_AGE"] = 0

REDIS_URL = env("REDIS_URL", default="")
if not REDIS_URL and _autodetect and _answers("127.0.0.1", 6379):
    REDIS_URL = "redis://127.0.0.1:6379/15"

DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run in-process; the end-to-end tests start a real worker on Redis instead.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = redis_broker_transport_options() if REDIS_URL else {}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Serve static files from the source folders; tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
