"""Expiring a backlog of overdue grants: time against one raw SQL UPDATE, and peak memory.

    python bench/expire.py [--sizes 100000 1000000] [--rounds 5 3] [--batch-size N]

For each size N: N accounts with one overdue active grant each. Every round copies the grants
table (same columns and indexes) and then times, in alternating order, one raw `UPDATE` of
the copy and the expiry sweep of the original (which also writes each grant's "expired"
event and its "access has ended" mail). Prints the median of the rounds' sweep ÷ raw ratios
(target <= 2x) and the sweep's peak Python memory at each size (target: flat).
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
    report_row,
    setup_django,
)

TARGET = 2.0
# Flat memory: what the sweep holds does not grow with the backlog (the batch's rows never
# reach Python; a few bytes per batch for the broker's kick are noise at this scale).
FLAT_MIB = 0.5


def checkpoint() -> None:
    """Flush dirty pages first, so neither timing pays for the other's writes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def copy_grants() -> None:
    """The raw UPDATE's table: the grants as they are before the sweep, same indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_grant_copy")
        cursor.execute(
            "CREATE TABLE bench_grant_copy (LIKE remote_access_remoteaccessgrant INCLUDING ALL)"
        )
        cursor.execute("INSERT INTO bench_grant_copy SELECT * FROM remote_access_remoteaccessgrant")
        cursor.execute("ANALYZE bench_grant_copy")


def time_raw_update(count: int) -> float:
    from django.db import connection

    checkpoint()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "UPDATE bench_grant_copy SET status = 'expired', ended_at = expires_at "
            "WHERE status = 'active' AND expires_at <= now()"
        )
        elapsed = time.perf_counter() - started
        assert cursor.rowcount == count, (cursor.rowcount, count)
        cursor.execute("DROP TABLE bench_grant_copy")
    return elapsed


def time_sweep(count: int, batch_size: int | None) -> tuple[float, float]:
    """Seconds the sweep took, and its peak Python memory in MiB."""
    from remote_access.services import grants_expire_due

    kwargs = {} if batch_size is None else {"batch_size": batch_size}
    checkpoint()
    tracemalloc.start()
    started = time.perf_counter()
    expired = grants_expire_due(**kwargs)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert expired == count, (expired, count)
    return elapsed, peak / 1024 / 1024


def warm_up() -> None:
    """One small sweep first: the broker connection its first commit opens is set up once
    per process, not per grant, and would otherwise count as the first round's memory."""
    from remote_access.services import grants_expire_due

    make_overdue_grants(10, with_owners=False)
    grants_expire_due()


def check_facts(count: int) -> None:
    """Each grant expired once, with one event and one mail (outside the timings)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM remote_access_remoteaccessgrant
                    WHERE status = 'expired'),
                   (SELECT count(DISTINCT grant_id) FROM remote_access_accessevent
                    WHERE kind = 'expired'),
                   (SELECT count(*) FROM remote_access_accessevent),
                   (SELECT count(*) FROM outbox_outboxmessage WHERE kind = 'access_expired')
            """
        )
        assert cursor.fetchone() == (count, count, count, count)


def measure(count: int, rounds: int, batch_size: int | None) -> tuple[float, float]:
    """The median sweep ÷ raw ratio over `rounds`, and the highest peak memory (MiB)."""
    ratios, peaks = [], []
    for round_number in range(rounds):
        make_overdue_grants(count, with_owners=False)
        copy_grants()
        # Alternate which goes first, so a drift in the machine's load favours neither.
        if round_number % 2 == 0:
            raw = time_raw_update(count)
            sweep, peak = time_sweep(count, batch_size)
        else:
            sweep, peak = time_sweep(count, batch_size)
            raw = time_raw_update(count)
        check_facts(count)
        ratios.append(sweep / raw)
        peaks.append(peak)
        print(
            f"expire: {count} grants, round {round_number + 1}: sweep {sweep:.2f}s, "
            f"raw UPDATE {raw:.2f}s = {sweep / raw:.2f}x, peak Python memory {peak:.2f} MiB",
            flush=True,
        )
    ratio = statistics.median(ratios)
    print(
        f"expire: {count} grants: sweep ÷ raw UPDATE median {ratio:.2f}x over {rounds} rounds "
        f"(target <= {TARGET}x)",
        flush=True,
    )
    return ratio, max(peaks)


def size_label(count: int) -> str:
    if count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count % 1000 == 0:
        return f"{count // 1000}k"
    return str(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--rounds", type=int, nargs="+", default=[5, 2], help="per size; the median is reported"
    )
    parser.add_argument("--batch-size", type=int, help="the sweep's (default: the service's)")
    args = parser.parse_args()
    rounds = args.rounds + [args.rounds[-1]] * (len(args.sizes) - len(args.rounds))
    setup_django()

    results = {}
    try:
        warm_up()
        for count, count_rounds in zip(args.sizes, rounds, strict=False):
            results[count] = measure(count, count_rounds, args.batch_size)
    finally:
        empty_tables(*OVERDUE_TABLES)
        purge_queued_tasks()

    labels = [size_label(count) for count in results]
    report_row(
        "expiry of overdue grants ÷ raw UPDATE, " + " and ".join(labels),
        ", ".join(
            f"{ratio:.2f}x ({label})"
            for (ratio, _), label in zip(results.values(), labels, strict=True)
        ),
        f"≤ {TARGET} at both, flat memory",
        held=all(ratio <= TARGET for ratio, _ in results.values()),
    )
    smallest, largest = min(results), max(results)
    if smallest != largest:
        small, large = results[smallest][1], results[largest][1]
        print(
            f"expire: peak Python memory {small:.2f} MiB at {smallest} grants, "
            f"{large:.2f} MiB at {largest} (target flat: within {FLAT_MIB} MiB)"
        )
        report_row(
            "expiry sweep's peak Python memory, "
            f"{size_label(smallest)} and {size_label(largest)} grants",
            f"{small:.2f} MiB ({size_label(smallest)}), {large:.2f} MiB ({size_label(largest)})",
            f"flat (within {FLAT_MIB} MiB)",
            held=large - small <= FLAT_MIB,
        )


if __name__ == "__main__":
    main()
