"""Importing profiles from CSV: rows per second, and peak memory as the file grows.

    python bench/import_profiles.py [--rows 200000]

Runs the same services as the site (check, then the batched upsert a worker runs) on a
generated file, and prints rows/s for N rows and the peak Python memory at N/10 and N rows.
The file is kept in the database in 1 MiB chunks and read back one chunk at a time, repeated
emails are found in SQL, and rows are written in batches: memory should stay flat (target:
200k rows ≤ 1.5x the peak at 20k).
"""

import argparse
import io
import time
import tracemalloc

from common import empty_tables, report_row, setup_django

TABLES = (
    "audience_importrejection",
    "audience_importseenemail",
    "audience_importchunk",
    "audience_importjob",
    "audience_profile",
    "accounts_membership",
    "accounts_account",
)


def make_csv(rows: int) -> bytes:
    lines = ["email,first_name,last_name,country,total_spent,tier"]
    lines += [
        f"person{n}@example.com,First{n},Last{n % 977},{('US', 'DE', 'FR')[n % 3]},{n % 1000}.25,"
        f"{('gold', 'silver')[n % 2]}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def run_import(content: bytes) -> float:
    from accounts.actors import MemberActor
    from accounts.models import Account, User
    from accounts.roles import Role
    from audience.importing import import_prepare, import_run
    from audience.models import ImportJob

    empty_tables(*TABLES)
    account = Account.objects.create(name="Bench", plan="pro")
    user, _ = User.objects.get_or_create(email="bench@latchkey.test", defaults={"full_name": "B"})
    actor = MemberActor.for_membership(user=user, account=account, role=Role.OWNER)
    started = time.perf_counter()
    job = import_prepare(
        account=account, actor=actor, file_name="bench.csv", content=io.BytesIO(content)
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    import_run(job_id=job.pk)
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.created_count == job.total_rows
    return elapsed


def peak_memory(rows: int) -> float:
    content = make_csv(rows)
    tracemalloc.start()
    run_import(content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    setup_django()
    content = make_csv(args.rows)
    elapsed = run_import(content)
    print(
        f"import: {args.rows} rows ({len(content) / 1024 / 1024:.1f} MiB) in {elapsed:.1f}s = "
        f"{args.rows / elapsed:,.0f} rows/s"
    )
    small, large = peak_memory(args.rows // 10), peak_memory(args.rows)
    print(
        f"import: peak Python memory {small:.1f} MiB at {args.rows // 10} rows, "
        f"{large:.1f} MiB at {args.rows} rows = {large / small:.2f}x "
        "(target ≤ 1.5x)"
    )
    report_row(
        f"import of {args.rows:,} rows, peak Python memory ÷ {args.rows // 10:,} rows",
        f"{large / small:.2f}x ({large:.1f} ÷ {small:.1f} MiB); {args.rows / elapsed:,.0f} rows/s",
        "≤ 1.5x",
        held=large / small <= 1.5,
    )
    empty_tables(*TABLES)


if __name__ == "__main__":
    main()
