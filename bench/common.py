"""Shared set-up for the benchmarks: Django on a PostgreSQL database of their own.

Benchmarks print ratios measured in one run, because this machine (and CI's) is noisy:
absolute seconds mean little, the ratio to a baseline measured alongside means more.
"""

import os
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "latchkey_bench"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}")
    os.environ.setdefault("DEBUG", "false")  # no query log growing in memory
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("The benchmarks need PostgreSQL: set DATABASE_URL=postgres://...")
    _create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # DEBUG is off, as in production: pages need the hashed static files' manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    # Tasks the services queue go to a Redis database of the benchmark's own, purged after,
    # so publishing costs what it costs in production and no worker ever runs them.
    from config.celery_app import app

    app.conf.broker_url = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")


def purge_queued_tasks() -> None:
    from config.celery_app import app

    app.control.purge()


def _create_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def empty_tables(*tables: str) -> None:
    """Empty tables, the append-only access events included (replica mode skips triggers)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute("SET session_replication_role = DEFAULT")


def insert_accounts(cursor, count: int) -> None:
    """`count` accounts named "Bench 1" … in one statement (grants and memberships follow)."""
    cursor.execute(
        """
        INSERT INTO accounts_account
            (name, timezone, currency, plan, created_at, require_mfa, remote_access_disabled,
             remote_access_disabled_reason)
        SELECT 'Bench ' || n, 'UTC', 'USD', 'free', now(), false, false, ''
        FROM generate_series(1, %s) AS n
        """,
        [count],
    )


# What an expiry benchmark writes, emptied before and after it.
OVERDUE_TABLES = (
    "outbox_outboxmessage",
    "remote_access_accessevent",
    "remote_access_remoteaccessgrant",
    "remote_access_supportrequest",
    "accounts_membership",
    "accounts_account",
)


def make_overdue_grants(count: int, *, with_owners: bool) -> None:
    """`count` accounts, each with one active grant that expired yesterday (a millisecond
    apart, in id order); `with_owners` makes one user Owner of them all, so that their
    "access has ended" mails have somebody to go to."""
    from django.db import connection

    from accounts.models import User

    empty_tables(*OVERDUE_TABLES)
    owner, _ = User.objects.get_or_create(
        email="owner@bench.test", defaults={"full_name": "Bench Owner"}
    )
    with connection.cursor() as cursor:
        insert_accounts(cursor, count)
        if with_owners:
            cursor.execute(
                """
                INSERT INTO accounts_membership (account_id, user_id, role, created_at, visit_mails)
                SELECT id, %s, 'owner', now(), true FROM accounts_account
                """,
                [owner.pk],
            )
        cursor.execute(
            """
            INSERT INTO remote_access_remoteaccessgrant
                (account_id, granted_by_id, granted_at, expires_at, duration, source, status,
                 scope)
            SELECT id, %s, now() - interval '8 days',
                   now() - interval '1 day' + id * interval '1 ms', '7d', 'security_page', 'active',
                   'full'
            FROM accounts_account
            """,
            [owner.pk],
        )
        cursor.execute("ANALYZE")


def ratio_line(name: str, value: float, baseline: float, target: str) -> str:
    ratio = value / baseline
    return f"{name}: {value:.3f}s vs {baseline:.3f}s baseline = {ratio:.2f}x (target {target})"


SHOP_TABLES = (
    "remote_access_accessevent",
    "remote_access_representativesession",
    "remote_access_remoteaccessgrant",
    "remote_access_supportrequest",
    "accounts_membership",
    "accounts_account",
)


def shop_with_live_grant():
    """An empty "Acme Store" whose Owner granted 7 days of access just now: (account, owner)."""
    empty_tables(*SHOP_TABLES)
    return add_shop("Acme Store", owner_email="owner@bench.test", owner_name="Olivia")


def add_shop(name: str, *, owner_email: str, owner_name: str):
    """A shop in New York time whose Owner granted 7 days of access just now: (account,
    owner)."""
    from django.utils import timezone

    from accounts.models import Account, Membership, User
    from remote_access.models import RemoteAccessGrant

    account = Account.objects.create(name=name, timezone="America/New_York")
    owner, _ = User.objects.get_or_create(email=owner_email, defaults={"full_name": owner_name})
    Membership.objects.create(user=owner, account=account, role="owner")
    now = timezone.now()
    RemoteAccessGrant.objects.create(
        account=account,
        granted_by=owner,
        granted_at=now,
        expires_at=now + timezone.timedelta(days=7),
        duration="7d",
    )
    return account, owner


class SmtpCounter:
    """An aiosmtpd handler that accepts every mail and counts it, by recipients and subject."""

    def __init__(self) -> None:
        self.received = 0
        self.messages: list[tuple[tuple[str, ...], str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        import email

        subject = email.message_from_bytes(envelope.content).get("Subject", "")
        self.messages.append((tuple(sorted(envelope.rcpt_tos)), subject))
        self.received += 1
        return "250 OK"


def counting_smtp_server():
    """A local SMTP server on a free loopback port: (controller, counter). Stop with
    `controller.stop()`."""
    import logging
    import socket

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    counter = SmtpCounter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, counter


# `make bench` (bench/run.py) collects the lines that start with ROW_PREFIX into one table.
ROW_PREFIX = "ROW|"


def report_row(what: str, figure: str, target: str, *, held: bool | None) -> None:
    """One row of the `make bench` table: what was measured, the figure (two runs where the
    script makes two), the target, and whether it held (None: a figure for the record, with
    no target). Printed, never asserted."""
    verdict = "—" if held is None else "held" if held else "MISSED"
    print(f"{ROW_PREFIX}{what}|{figure}|{target}|{verdict}", flush=True)


class ProcessStat(NamedTuple):
    name: str
    parent: int
    cpu_seconds: float  # user and system time used so far


def process_stat(pid: int | str) -> ProcessStat | None:
    """A process's name, parent and CPU time so far, from Linux's /proc/<pid>/stat; None if
    it has ended (or there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            stat = stat_file.read()
    except OSError:
        return None
    # The name is in parentheses and may hold spaces or parentheses of its own.
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ProcessStat(name, int(fields[1]), ticks / os.sysconf("SC_CLK_TCK"))
