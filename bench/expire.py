"""Expiring a backlog of overdue grants: time against one raw SQL UPDATE, and peak memory.

    python bench/expire.py [--sizes 100000 1000000] [--rounds 5 2] [--batch-size N]

For each size N: N accounts with one overdue active grant each. Every round copies the grants
table (same columns and indexes) and then times, in turn (the order rotating each round):

- one raw `UPDATE` of a copy: the baseline the issue's target is a ratio to;
- the **writes the rules require**, on copies of the grants, events and mail tables (same
  columns, indexes and foreign keys): each grant's update, its "expired" event and its
  "access has ended" mail in one statement and one transaction (DESIGN §5 rules 7 and 9),
  with nothing the sweep adds — no claim, no lock, no batches, no visits;
- the expiry sweep of the original.

Prints the median over the rounds of sweep ÷ raw UPDATE (target <= 2x), of those writes ÷ raw
UPDATE (what any sweep keeping the rules costs at least) and of sweep ÷ those writes (what
this sweep adds), and the sweep's peak Python memory at each size (target: flat).
"""

import argparse
import statistics
import time
import tracemalloc
from typing import NamedTuple

from common import (
    OVERDUE_TABLES,
    empty_tables,
    make_overdue_grants,
    purge_queued_tasks,
    report_row,
    setup_django,
)

TARGET = 2.0
# What the sweep may add to the writes the rules require (claiming with a lock so that two
# sweeps never expire a grant twice, batches, the visits): proposed in docs/performance.md.
FLOOR_TARGET = 1.3
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


# The tables the rules' writes go to: copies, so that the sweep's tables stay as they are.
FLOOR_TABLES = {
    "grants": ("remote_access_remoteaccessgrant", "bench_floor_grant"),
    "events": ("remote_access_accessevent", "bench_floor_event"),
    "mails": ("outbox_outboxmessage", "bench_floor_mail"),
}


def copy_floor_tables() -> None:
    """Copies of the grants (with their rows), events and mail tables (empty, as the sweep
    finds them), each with the original's indexes, checks and foreign keys."""
    from django.db import connection

    with connection.cursor() as cursor:
        for original, copy in FLOOR_TABLES.values():
            cursor.execute(f"DROP TABLE IF EXISTS {copy}")
            cursor.execute(f"CREATE TABLE {copy} (LIKE {original} INCLUDING ALL)")
            # LIKE copies no foreign key: each is checked on every row written, so add them.
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [original],
            )
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {copy} ADD {definition}")
        grants, grants_copy = FLOOR_TABLES["grants"]
        cursor.execute(f"INSERT INTO {grants_copy} SELECT * FROM {grants}")
        cursor.execute(f"ANALYZE {grants_copy}")


def floor_sql() -> str:
    """The writes the rules require, one statement: each overdue grant's update, with its
    event and its mail as the sweep writes them (the same columns and values)."""
    from django.db import connection

    from outbox.services import outbox_rendered_later_sql
    from remote_access.mail import mail_kind
    from remote_access.services.expiry import _BLANK_FACTS, _EVENT_COLUMNS, _NOTICE_PAYLOADS

    mails, mail_params = outbox_rendered_later_sql(
        source=_NOTICE_PAYLOADS, kind=mail_kind("expired")
    )
    mails = mails.replace(FLOOR_TABLES["mails"][0], FLOOR_TABLES["mails"][1])
    sql = f"""
        WITH expired AS (
            UPDATE {FLOOR_TABLES["grants"][1]} SET status = 'expired', ended_at = expires_at
            WHERE status = 'active' AND expires_at <= now()
            RETURNING id, account_id, expires_at
        ), expiry_events AS (
            INSERT INTO {FLOOR_TABLES["events"][1]} ({_EVENT_COLUMNS}, actor_team)
            SELECT account_id, 'expired', id, expires_at, '{{}}'::jsonb, {_BLANK_FACTS}, ''
            FROM expired
        ), mails AS (
            {mails.strip()}
        )
        SELECT count(*) FROM expired
    """
    # The mail's few parameters written in, so the statement runs without them.
    with connection.cursor() as cursor:
        return cursor.mogrify(sql, mail_params)


def time_floor(count: int) -> float:
    """Seconds the rules' own writes took (their foreign keys checked at commit, as the
    sweep's are)."""
    from django.db import connection, transaction

    sql = floor_sql()
    checkpoint()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
        written = cursor.fetchone()[0]
    elapsed = time.perf_counter() - started
    assert written == count, (written, count)
    drop_floor_tables()
    return elapsed


def drop_floor_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {', '.join(copy for _, copy in FLOOR_TABLES.values())}")


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


class Medians(NamedTuple):
    sweep_to_raw: float  # the target is <= TARGET
    floor_to_raw: float  # the rules' own writes against the raw UPDATE
    sweep_to_floor: float  # what the sweep adds to them
    peak_mib: float  # the highest of the rounds'


def measure(count: int, rounds: int, batch_size: int | None) -> Medians:
    """Medians of the rounds' ratios, and the highest peak memory (MiB)."""
    timers = {
        "raw UPDATE": lambda: time_raw_update(count),
        "rules' writes": lambda: time_floor(count),
        "sweep": lambda: time_sweep(count, batch_size),
    }
    ratios: dict[str, list[float]] = {"sweep/raw": [], "floor/raw": [], "sweep/floor": []}
    peaks = []
    for round_number in range(rounds):
        make_overdue_grants(count, with_owners=False)
        copy_grants()
        copy_floor_tables()
        # Rotate which goes first, so that a drift in the machine's load favours none.
        names = list(timers)
        names = names[round_number % 3 :] + names[: round_number % 3]
        took = {name: timers[name]() for name in names}
        sweep, peak = took["sweep"]
        raw, floor = took["raw UPDATE"], took["rules' writes"]
        check_facts(count)
        ratios["sweep/raw"].append(sweep / raw)
        ratios["floor/raw"].append(floor / raw)
        ratios["sweep/floor"].append(sweep / floor)
        peaks.append(peak)
        print(
            f"expire: {count} grants, round {round_number + 1} ({', '.join(names)}): "
            f"sweep {sweep:.2f}s, raw UPDATE {raw:.2f}s = {sweep / raw:.2f}x; the rules' "
            f"writes {floor:.2f}s = {floor / raw:.2f}x raw, sweep {sweep / floor:.2f}x them; "
            f"peak Python memory {peak:.2f} MiB",
            flush=True,
        )
    medians = Medians(*(statistics.median(found) for found in ratios.values()), max(peaks))
    print(
        f"expire: {count} grants, medians over {rounds} rounds: sweep ÷ raw UPDATE "
        f"{medians.sweep_to_raw:.2f}x (target <= {TARGET}x); the rules' writes ÷ raw UPDATE "
        f"{medians.floor_to_raw:.2f}x; sweep ÷ the rules' writes {medians.sweep_to_floor:.2f}x",
        flush=True,
    )
    return medians


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

    def figures(ratio_of) -> str:
        return ", ".join(
            f"{ratio_of(medians):.2f}x ({label})"
            for medians, label in zip(results.values(), labels, strict=True)
        )

    report_row(
        "expiry of overdue grants ÷ raw UPDATE, " + " and ".join(labels),
        figures(lambda medians: medians.sweep_to_raw),
        f"≤ {TARGET} at both, flat memory",
        held=all(medians.sweep_to_raw <= TARGET for medians in results.values()),
    )
    report_row(
        "the writes the rules require (each grant's update, its event and its mail, one "
        "statement) ÷ raw UPDATE, " + " and ".join(labels),
        figures(lambda medians: medians.floor_to_raw),
        "for the record: what any sweep keeping the rules costs at least",
        held=None,
    )
    report_row(
        "expiry sweep ÷ the writes the rules require, " + " and ".join(labels),
        figures(lambda medians: medians.sweep_to_floor),
        f"proposed, in place of ≤ {TARGET}x the raw UPDATE: ≤ {FLOOR_TARGET}x",
        held=all(medians.sweep_to_floor <= FLOOR_TARGET for medians in results.values()),
    )
    smallest, largest = min(results), max(results)
    if smallest != largest:
        small, large = results[smallest].peak_mib, results[largest].peak_mib
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
