"""Soak: the whole deployment under a bounded load, with its Redis killed and restarted.

    python bench/soak.py [--seconds 120] [--accounts 40] [--expiring 300]

Run by hand (not in CI). Starts, on loopback only:
- its own `redis-server` on a free port (cache and broker), in a temporary folder;
- gunicorn with 2 web processes, 2 Celery workers and 1 beat, all on the production settings,
  against a PostgreSQL database of its own (`latchkey_soak`, emptied first).
Then Owners of `--accounts` accounts grant, replace and remove access through the Security
tab from 8 threads for `--seconds`, while `--expiring` other grants run out during the run;
half-way through Redis is killed (SIGKILL) and started again 10 seconds later.

At the end it waits for beat and the workers to expire every overdue grant, and checks:
- no answer was a 5xx and no request failed;
- at most one active grant per account;
- one history row per transition: each grant has exactly one start (granted, or replaced
  for the grant that replaced another), each removed grant one "removed", each expired grant
  one "expired", and as many "replaced" rows as replaced grants;
- every mail owed was sent exactly once: one outbox row per granted, replaced, removed and
  expired event, none left waiting or failed, and the local SMTP server (aiosmtpd, counting)
  received exactly one message per row sent;
- /readyz answers 200 again (the heartbeat went through the restarted Redis).
It prints the figures and the number of invariant violations (target: 0); exit status 1 if any.
"""

import argparse
import collections
import http.client
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from common import ROOT, SHOP_TABLES, counting_smtp_server, empty_tables, setup_django

sys.path.insert(0, str(ROOT))
from tests.faults.redis_servers import PrivateRedis, free_port  # noqa: E402

SOAK_DATABASE = "postgres://postgres@127.0.0.1:5432/latchkey_soak"
SECRET_KEY = secrets.token_urlsafe(50)
CSRF = "s" * 32  # any well-formed secret: the same value as cookie and header passes CSRF
THREADS = 8


def production_env(redis_url: str, smtp_port: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": SOAK_DATABASE,
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "LOG_LEVEL": "WARNING",
    }


def start_processes(env: dict[str, str], port: int, folder: Path) -> list[subprocess.Popen]:
    bin_dir = Path(sys.executable).parent
    celery = str(bin_dir / "celery")
    commands = [
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "2", "--threads", "4", "--log-level", "warning"],
        [celery, "-A", "config", "worker", "--pool", "solo", "-n", "soak1@%h"]
        + ["--loglevel", "WARNING"],
        [celery, "-A", "config", "worker", "--pool", "solo", "-n", "soak2@%h"]
        + ["--loglevel", "WARNING"],
        [celery, "-A", "config", "beat", "-s", str(folder / "beat-schedule")]
        + ["--loglevel", "WARNING"],
    ]
    log = open(folder / "processes.log", "w")  # noqa: SIM115 - open for the processes' lives
    return [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)  # noqa: S603
        for command in commands
    ]


def wait_for_web(port: int) -> None:
    for _ in range(200):
        try:
            if request(port, "GET", "/healthz", "")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def request(port: int, method: str, path: str, cookie: str, form: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    headers = {"Host": "127.0.0.1", "Cookie": f"{cookie}; csrftoken={CSRF}"}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["X-CSRFToken"] = CSRF
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def make_people(accounts: int, expiring: int, run_seconds: int) -> list[tuple[int, str]]:
    """Owners who will act (account id, session cookie), and grants that run out mid-run."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.models import Account, Membership, User
    from remote_access.models import RemoteAccessGrant

    empty_tables(*SHOP_TABLES, "outbox_outboxmessage", "health_heartbeat", "django_session")
    User.objects.filter(email__endswith="@soak.test").delete()
    people = []
    for n in range(accounts):
        account = Account.objects.create(name=f"Soak {n}")
        owner = User.objects.create(email=f"owner{n}@soak.test", full_name=f"Owner {n}")
        Membership.objects.create(user=owner, account=account, role="owner")
        session = SessionStore()
        session[SESSION_KEY] = str(owner.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
        session.create()
        people.append((account.pk, f"{settings.SESSION_COOKIE_NAME}={session.session_key}"))
    granter = User.objects.create(email="granter@soak.test", full_name="Granter")
    now = timezone.now()
    for n in range(expiring):
        account = Account.objects.create(name=f"Expiring {n}")
        ends = now + timezone.timedelta(seconds=random.uniform(10, run_seconds))
        RemoteAccessGrant.objects.create(
            account=account,
            granted_by=granter,
            granted_at=ends - timezone.timedelta(days=1),
            expires_at=ends,
            duration="1d",
        )
    return people


def active_grant_id(account_id: int) -> int | None:
    from remote_access.models import RemoteAccessGrant

    return (
        RemoteAccessGrant.objects.filter(account_id=account_id, status="active")
        .values_list("pk", flat=True)
        .first()
    )


def load(port: int, people, deadline: float, counts: collections.Counter, lock) -> None:
    from django.db import connection

    try:
        while time.monotonic() < deadline:
            account_id, cookie = random.choice(people)
            current = active_grant_id(account_id)
            if current is not None and random.random() < 0.4:
                action, path = "remove", f"/settings/security/access/{current}/remove/"
                form = {}
            else:
                action, path = "grant", "/settings/security/"
                # Up to 7 days: longer grants ask for the password again (sudo mode).
                form = {"duration": random.choice(["1d", "7d"])}
                form["current_grant"] = "" if current is None else str(current)
            try:
                status, _body = request(port, "POST", path, cookie, form)
                outcome = f"{action} {status}"
            except OSError as error:
                outcome = f"{action} failed: {type(error).__name__}"
            with lock:
                counts[outcome] += 1
            time.sleep(random.uniform(0.05, 0.3))
    finally:
        connection.close()


def violations() -> list[str]:
    from django.db.models import Count, Q

    from remote_access.models import AccessEvent, RemoteAccessGrant

    found = []
    doubled = (
        RemoteAccessGrant.objects.filter(status="active")
        .values("account")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    found += [f"account {row['account']} has {row['n']} active grants" for row in doubled]
    grants = RemoteAccessGrant.objects.annotate(
        starts=Count("events", filter=Q(events__kind__in=["granted", "replaced"])),
        removals=Count("events", filter=Q(events__kind="removed")),
        expiries=Count("events", filter=Q(events__kind="expired")),
    )
    for grant in grants.filter(granted_by__email__endswith="@soak.test").exclude(
        granted_by__email="granter@soak.test"
    ):
        if grant.starts != 1:
            found.append(f"grant {grant.pk}: {grant.starts} start rows")
    for grant in grants:
        if grant.removals != (grant.status == "revoked"):
            found.append(f"grant {grant.pk} ({grant.status}): {grant.removals} removed rows")
        if grant.expiries != (grant.status == "expired"):
            found.append(f"grant {grant.pk} ({grant.status}): {grant.expiries} expired rows")
    replaced_rows = AccessEvent.objects.filter(kind="replaced").count()
    replaced_grants = RemoteAccessGrant.objects.filter(status="replaced").count()
    if replaced_rows != replaced_grants:
        found.append(f"{replaced_rows} replaced rows for {replaced_grants} replaced grants")
    return found


# Which outbox kind each history kind owes (remote_access.mail).
MAIL_FOR_EVENT = {
    "granted": "access_granted",
    "replaced": "access_replaced",
    "removed": "access_removed",
    "expired": "access_expired",
}


def mail_violations(mailbox) -> list[str]:
    """Every mail owed was written once and sent once."""
    from django.db.models import Count

    from outbox.models import OutboxMessage
    from remote_access.models import AccessEvent

    found = []
    events = dict(AccessEvent.objects.values_list("kind").annotate(n=Count("id")))
    rows = dict(OutboxMessage.objects.values_list("kind").annotate(n=Count("id")))
    for event_kind, mail_kind in MAIL_FOR_EVENT.items():
        if events.get(event_kind, 0) != rows.get(mail_kind, 0):
            found.append(
                f"{events.get(event_kind, 0)} {event_kind} events but "
                f"{rows.get(mail_kind, 0)} {mail_kind} mails"
            )
    statuses = dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id")))
    print("outbox:", statuses, f"SMTP server received {mailbox.received}")
    for status in ("pending", "sending", "failed"):
        if statuses.get(status):
            found.append(f"{statuses[status]} outbox mails still {status}")
    if mailbox.received != statuses.get("sent", 0):
        found.append(f"{statuses.get('sent', 0)} mails sent but {mailbox.received} received")
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--accounts", type=int, default=40)
    parser.add_argument("--expiring", type=int, default=300)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = SOAK_DATABASE
    os.environ["SECRET_KEY"] = SECRET_KEY  # the sessions made here must be valid in gunicorn
    folder = Path(tempfile.mkdtemp(prefix="latchkey-soak-"))
    redis = PrivateRedis(folder)
    redis.start()
    os.environ["BENCH_BROKER_URL"] = redis.url
    setup_django()
    from django.utils import timezone

    from outbox.models import OutboxMessage
    from remote_access.models import RemoteAccessGrant

    people = make_people(args.accounts, args.expiring, args.seconds)
    port = free_port()
    smtp, mailbox = counting_smtp_server()
    processes = start_processes(production_env(redis.url, smtp.port), port, folder)
    counts: collections.Counter = collections.Counter()
    try:
        wait_for_web(port)
        lock = threading.Lock()
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(target=load, args=(port, people, deadline, counts, lock))
            for _ in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.seconds / 2)
        redis.stop()
        print(f"{time.monotonic() - started:.0f} s: Redis killed")
        time.sleep(10)
        redis.start()
        print(f"{time.monotonic() - started:.0f} s: Redis started again")
        for thread in threads:
            thread.join()
        print(f"{time.monotonic() - started:.0f} s: load stopped; waiting for expiries")
        overdue = RemoteAccessGrant.objects.filter(status="active", expires_at__lte=timezone.now())
        wait_until = time.monotonic() + 180
        while overdue.exists() and time.monotonic() < wait_until:
            time.sleep(2)
        owed = OutboxMessage.objects.filter(status__in=["pending", "sending"])
        while owed.exists() and time.monotonic() < wait_until:
            time.sleep(2)
        ready = (0, b"")
        while time.monotonic() < wait_until:
            ready = request(port, "GET", "/readyz", "")
            if ready[0] == 200:
                break
            time.sleep(2)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        redis.stop()
        smtp.stop()

    print("\nrequests:")
    for outcome, number in sorted(counts.items()):
        print(f"  {outcome}: {number}")
    found = violations() + mail_violations(mailbox)
    errors = sum(n for outcome, n in counts.items() if " 5" in outcome or "failed" in outcome)
    if errors:
        found.append(f"{errors} requests answered 5xx or failed")
    if overdue.exists():
        found.append(f"{overdue.count()} overdue grants still active after the run")
    if ready[0] != 200:
        found.append(f"/readyz answered {ready[0]}: {ready[1][:300]!r}")
    statuses = collections.Counter(RemoteAccessGrant.objects.values_list("status", flat=True))
    print("grants:", dict(statuses))
    print(f"invariant violations: {len(found)}")
    for line in found[:50]:
        print("  -", line)
    print(f"(process logs: {folder / 'processes.log'})")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
