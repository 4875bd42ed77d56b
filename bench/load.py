"""Load test on loopback: the Security tab against a bare Django view, same server.

    python bench/load.py [--seconds 10] [--connections 50]

Starts gunicorn with the production settings on the benchmark's PostgreSQL database, then
runs Debian's `wrk` (apt-get install wrk) against /healthz (a view that touches nothing) and
against /settings/security/ as a signed-in Owner (the session cookie is carried by a Lua
script). Prints requests per second of each, their ratio (target >= 0.5), p50 and p99
latency, and the errors (target 0). Traffic goes to 127.0.0.1 only, bounded in time.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import ROOT, SHOP_TABLES, empty_tables, setup_django, shop_with_live_grant

PORT = 8765


def signed_in_owner_cookie() -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from remote_access.models import AccessEvent

    account, owner = shop_with_live_grant()
    AccessEvent.objects.bulk_create(
        AccessEvent(account=account, kind="granted", summary=f"Event {n}") for n in range(1000)
    )
    session = SessionStore()
    session[SESSION_KEY] = str(owner.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def start_gunicorn() -> subprocess.Popen:
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"),
        "EMAIL_URL": "dummymail://",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; TLS is the proxy's job
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--threads",
            "8",
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)  # noqa: S310
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start")


LUA = """
wrk.headers["Cookie"] = "%s"
wrk.headers["Host"] = "127.0.0.1"
"""


def run_wrk(path: str, cookie: str, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % cookie)
    output = subprocess.run(  # noqa: S603 - fixed arguments, loopback only
        [
            shutil.which("wrk"),
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            script.name,
            f"http://127.0.0.1:{PORT}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    os.unlink(script.name)

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("load: needs wrk (apt-get install wrk); skipped")
    # One key for this process (which signs the session in) and the server (which checks it).
    os.environ["SECRET_KEY"] = "load-test-" + os.urandom(16).hex()
    setup_django()
    cookie = signed_in_owner_cookie()
    server = start_gunicorn()
    try:
        probe = urllib.request.Request(
            f"http://127.0.0.1:{PORT}/settings/security/", headers={"Cookie": cookie}
        )
        with urllib.request.urlopen(probe, timeout=10) as response:  # noqa: S310 - loopback
            body = response.read().decode()
            assert response.status == 200
            assert "Olivia" in body, "the load test must see the signed-in page"
        # The baseline carries no cookie: a bare view, no session, no account.
        bare = run_wrk("/healthz", "", args.seconds, args.connections)
        page = run_wrk("/settings/security/", cookie, args.seconds, args.connections)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    for name, result in (("bare view /healthz", bare), ("security tab", page)):
        print(
            f"load: {name}: {result['rps']:.0f} req/s, p50 {result['p50']:.1f} ms, "
            f"p99 {result['p99']:.1f} ms, errors {result['errors']}"
        )
    print(
        f"load: security tab / bare view = {page['rps'] / bare['rps']:.2f} (target >= 0.5), "
        f"{args.connections} connections, {args.seconds}s each, 2 gunicorn workers x 8 threads"
    )
    empty_tables(*SHOP_TABLES)


if __name__ == "__main__":
    main()
