"""Tests: fast hashing, mail in memory, tasks run in-process unless a test starts a worker.

PostgreSQL and Redis are used when DATABASE_URL / REDIS_URL are set (`make test` sets them
when the local services answer; see the Makefile); otherwise the suite runs on SQLite and
the tests marked `services` are skipped (a failure under REQUIRE_SERVICES=1). Settings never
probe the network.
"""

import os

os.environ.setdefault("SECRET_KEY", "django-insecure-tests-only")

from .base import *  # noqa: E402,F403
from .base import CACHES, database, redis_broker_transport_options  # noqa: E402

DATABASES = {"default": database(os.environ.get("DATABASE_URL") or "sqlite://:memory:")}
DATABASES["default"]["CONN_MAX_AGE"] = 0
REDIS_URL = os.environ.get("REDIS_URL", "")

DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run in-process; the end-to-end tests start a real worker on Redis instead.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = redis_broker_transport_options() if REDIS_URL else {}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Serve static files from the source folders; tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
