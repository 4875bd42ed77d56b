"""Settings shared by every environment. Read the environment only here, through `env`."""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
VENDOR_NAME = env("VENDOR_NAME", default="Latchkey")
# Fernet keys for secrets shown again (integration keys), newest first. Development derives
# one from SECRET_KEY; production must set FIELD_ENCRYPTION_KEYS (see production.py).
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    default=[base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()],
)
# Staff sessions: idle and absolute limits; entering an account after this long since the
# last sign-in asks for the password again.
STAFF_SESSION_IDLE = timedelta(minutes=env.int("STAFF_SESSION_IDLE_MINUTES", default=30))
STAFF_SESSION_MAX = timedelta(hours=env.int("STAFF_SESSION_MAX_HOURS", default=12))
STAFF_REAUTH_AFTER = timedelta(minutes=env.int("STAFF_REAUTH_AFTER_MINUTES", default=15))
# Merchant sessions (everyone but staff): idle and absolute limits, as for staff above.
SESSION_IDLE = timedelta(hours=env.int("SESSION_IDLE_HOURS", default=12))
SESSION_MAX = timedelta(days=env.int("SESSION_MAX_DAYS", default=14))
# Sudo mode: risky changes (long grants, two-factor off, API keys, the plan) need the password
# or a two-factor code entered within this many minutes (accounts/sudo.py).
SUDO_MINUTES = env.int("SUDO_MINUTES", default=15)
# However live the grant, a support visit ends after this long.
REPRESENTATIVE_SESSION_MAX_AGE = timedelta(
    hours=env.int("REPRESENTATIVE_SESSION_MAX_HOURS", default=8)
)
# How long support's request for access waits for the merchant before it expires.
ACCESS_REQUEST_PENDING = timedelta(hours=env.int("ACCESS_REQUEST_PENDING_HOURS", default=24))
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# How many proxies (TLS terminator, load balancer) sit in front of gunicorn and append to
# X-Forwarded-For. 0: clients connect directly and the header is ignored (a client could
# write anything in it). See accounts.http.client_ip and docs/operations.md.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    # Django's admin with a site that needs two-factor sign-in (accounts/admin_site.py).
    "accounts.admin_apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "remote_access",
    "audience",
    "health",
    "outbox",
]

MIDDLEWARE = [
    # First: /healthz and /readyz answer before sessions, https redirects and host checks.
    "health.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Before anything loads the session: the session and its user's reads in one round trip.
    "accounts.middleware.SessionReadsMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.PlainUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "remote_access.middleware.RepresentativeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.CurrentAccountMiddleware",
    # Innermost: this response's CSRF token into the forms of kept fragments, before
    # CsrfViewMiddleware sets the cookie (accounts/kept_forms.py).
    "accounts.kept_forms.KeptFormTokensMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.current_account",
                "remote_access.context_processors.own_open_visit",
                "remote_access.context_processors.support_inside",
            ],
        },
    },
]


# Embedded default: SQLite under var/. DATABASE_URL=postgres://... switches to psycopg 3.
def database(url: str) -> dict:
    """The database at `url`; PostgreSQL through Django's backend with a health check that
    sends no query (config/postgresql/base.py)."""
    config = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "config.postgresql"
    return config


DATABASES = {
    "default": database(env("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"))
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The reads every request makes run as prepared statements (accounts/compiled.py). Off
# behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode
# before 1.21; docs/operations.md).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
# Every Redis client gives up quickly. A Redis that is down, or up but stuck, must cost a
# request a fraction of a second, never a hang: what it serves (rate-limit counters, the
# broker) degrades, and the database still holds every rule (DESIGN §5.9).
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.5)


def redis_cache(url: str) -> dict:
    """The cache settings for a Redis at `url`, with the short timeouts and no retries."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
            "socket_timeout": REDIS_TIMEOUT,
            # Otherwise redis-py retries three times with backoff: seconds lost on a dead Redis.
            "retry": Retry(NoBackoff(), 0),
        },
    }


def redis_broker_transport_options() -> dict:
    """Celery's Redis transport: short socket timeouts and a bounded connect on publish.

    Without `max_retries` a `.delay()` against a dead broker retries for ever; with it, the
    publish fails after about a second and the caller logs it (on_commit(robust=True)).
    Workers and beat reconnect through their own loop (broker_connection_retry), unaffected.
    """
    return {
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "socket_timeout": REDIS_TIMEOUT,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database, never in the cache: a Redis outage signs nobody out.
# Rendered fragments that are valid by construction (their key changes with what they show),
# kept in each process: no network round trip, nothing to fail when Redis is down.
CACHES["fragments"] = {
    "BACKEND": "accounts.fragment_cache.FragmentCache",
    "LOCATION": "fragments",
    "OPTIONS": {"MAX_ENTRIES": 2000},
}
# (accounts.sessions: Django's database sessions, read with a query compiled once.)
SESSION_ENGINE = "accounts.sessions"
# The cookie (and the row clearsessions removes) lasts no longer than the longest session.
SESSION_COOKIE_AGE = int(SESSION_MAX.total_seconds())

AUTH_USER_MODEL = "accounts.User"
# Django's ModelBackend, loading the signed-in user with their memberships in one query.
AUTHENTICATION_BACKENDS = ["accounts.backends.UserBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
OTP_TOTP_ISSUER = VENDOR_NAME
# After each wrong code the next try must wait twice as long (1 s, 2 s, 4 s, …).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"{VENDOR_NAME} <no-reply@latchkey.test>")
# A mail server that accepts the connection and then says nothing must not hold a worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# The outbox (outbox/services.py): mail waits there until a worker sends it.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=100)
# A batch stops sending after this long and hands the rest back (the task's limit is 60 s).
OUTBOX_BATCH_BUDGET = timedelta(seconds=env.int("OUTBOX_BATCH_BUDGET_SECONDS", default=30))
# After a failed send: wait 1 min, 2, 4, … up to 1 hour; after 12 tries (about 6 hours) the
# mail is marked failed, in admin, until someone sends it again.
OUTBOX_RETRY_BASE = timedelta(seconds=env.int("OUTBOX_RETRY_BASE_SECONDS", default=60))
OUTBOX_RETRY_MAX = timedelta(seconds=env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600))
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=12)
# A row claimed this long ago whose worker never finished is handed to another worker.
OUTBOX_CLAIM_TIMEOUT = timedelta(seconds=env.int("OUTBOX_CLAIM_TIMEOUT_SECONDS", default=300))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# django-csp: same-origin everything, no inline script, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Celery. Embedded default: kombu's filesystem transport under var/, which needs no server.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
_celery_queue_dir = VAR_DIR / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    redis_broker_transport_options()
    if REDIS_URL
    else {
        "data_folder_in": str(_celery_queue_dir / "queue"),
        "data_folder_out": str(_celery_queue_dir / "queue"),
        "processed_folder": str(_celery_queue_dir / "processed"),
        "control_folder": str(_celery_queue_dir / "control"),
        "store_processed": False,
    }
)
if not REDIS_URL:
    for _folder in ("queue", "processed", "control"):
        (_celery_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 120
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers wait for the broker however long it is away (the default gives up after 100 tries,
# about 50 minutes, and the worker exits).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A web request that queues a task gives up on a dead or stuck broker within about a second
# (one retry); the change it made is already committed and the failure is logged.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Run exactly one beat. Liveness never depends on it: it only tidies up and sends mail.
CELERY_BEAT_SCHEDULE = {
    "expire-grants": {
        "task": "remote_access.tasks.expire_grants",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "expire-access-requests": {
        "task": "remote_access.tasks.expire_access_requests",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "health-heartbeat": {
        "task": "health.tasks.beat_heartbeat",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "deliver-outbox": {
        "task": "outbox.tasks.outbox_deliver",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "warn-expiring-grants": {
        "task": "remote_access.tasks.warn_expiring_grants",
        "schedule": crontab(minute=5),
        "options": {"expires": 50 * 60},
    },
    "recover-imports": {
        "task": "audience.tasks.recover_imports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}

# /readyz reports "beat" once the heartbeat beat schedules every minute is older than this.
READYZ_BEAT_MAX_AGE_SECONDS = env.int("READYZ_BEAT_MAX_AGE_SECONDS", default=180)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            # Escapes control characters, so no request can forge a log line.
            "()": "accounts.logs.SingleLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
