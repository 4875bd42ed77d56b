"""Production: secrets come from the environment and have no default."""

from .base import *  # noqa: F403
from .base import env

# Every process (web, worker, beat) refuses to start without these, rather than fall back to
# the development defaults: SQLite, a broker in a local folder, mail printed to the console.
REQUIRED_ENVIRONMENT = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "FIELD_ENCRYPTION_KEYS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
)
for _name in REQUIRED_ENVIRONMENT:
    env(_name)  # ImproperlyConfigured: "Set the <name> environment variable"

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# Generate one with:
#   python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")

# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER_ENABLED=true and, if the
# proxy itself redirects to https, SECURE_SSL_REDIRECT=false.
if env.bool("SECURE_PROXY_SSL_HEADER_ENABLED", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
