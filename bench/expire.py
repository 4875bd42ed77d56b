"""Expiring a backlog of overdue grants: time against one raw SQL UPDATE, and peak memory.

    python bench/expire.py [--grants 100000]

Prints the expiry service's time for N overdue grants next to one raw `UPDATE` of the same
rows on a copy of the table (same columns and indexes), their ratio (target <= 3x), and the
service's peak Python memory at N/10 and N grants (target: flat).
"""

import argparse
import statistics
import time
import tracemalloc

from common import (
    OVERDUE_TABLES,
    empty_tables,
    make_overdue_grants,
    purge_queued_tasks,
    ratio_line,
    setup_django,
)


def checkpoint() -> None:
    """Flush dirty pages first, so neither timing pays for the other's writes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def time_raw_update() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_grant_copy")
        cursor.execute(
            "CREATE TABLE bench_grant_copy (LIKE remote_access_remoteaccessgrant INCLUDING ALL)"
        )
        cursor.execute("INSERT INTO bench_grant_copy SELECT * FROM remote_access_remoteaccessgrant")
        cursor.execute("ANALYZE bench_grant_copy")
        checkpoint()
        started = time.perf_counter()
        cursor.execute(
            "UPDATE bench_grant_copy SET status = 'expired', ended_at = expires_at "
            "WHERE status = 'active' AND expires_at <= now()"
        )
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_grant_copy")
    return elapsed


def time_service() -> tuple[float, int]:
    from remote_access.services import grants_expire_due

    checkpoint()
    started = time.perf_counter()
    expired = grants_expire_due()
    return time.perf_counter() - started, expired


def peak_memory(count: int) -> float:
    from remote_access.services import grants_expire_due

    make_overdue_grants(count, with_owners=False)
    tracemalloc.start()
    grants_expire_due()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grants", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="the median round is reported")
    args = parser.parse_args()
    setup_django()
    from remote_access.models import AccessEvent

    rounds = []
    for _ in range(args.rounds):
        make_overdue_grants(args.grants, with_owners=False)
        raw = time_raw_update()
        service, expired = time_service()
        assert expired == args.grants, (expired, args.grants)
        assert AccessEvent.objects.filter(kind="expired").count() == args.grants
        rounds.append((service / raw, service, raw))
    _, service, raw = statistics.median_low(rounds)
    print(f"expire: {args.grants} overdue grants, each expired and logged once")
    print(
        ratio_line("expire: service vs raw UPDATE", service, raw, "<= 3x")
        + f", median of {args.rounds}"
    )
    small = peak_memory(args.grants // 10)
    large = peak_memory(args.grants)
    print(
        f"expire: peak Python memory {small:.1f} MiB at {args.grants // 10} grants, "
        f"{large:.1f} MiB at {args.grants} = {large / small:.2f}x (target flat, ~1x)"
    )
    empty_tables(*OVERDUE_TABLES)
    purge_queued_tasks()


if __name__ == "__main__":
    main()
