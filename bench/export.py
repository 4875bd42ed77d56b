"""The access-history CSV export of a long history: time and peak memory.

    python bench/export.py [--events 1000000] [--in-process [--profile]]

Fills the history with N events (half of them inside a support visit, so each row reads its
visit and names its grant, as a representative's page views do), then downloads the export of
N/10 events and twice the export of N events through gunicorn as the Procfile runs it
(gthread workers, production settings) over loopback, and prints the time, the rows per
second, the workers' peak resident memory, and whether every row arrived (a worker timeout
would cut the download short). Target: <= 10 s for 1M events, a peak that does not grow from
N/10 to N.

--in-process streams the same downloads through Django's test client instead (the process's
peak memory); --profile adds a cProfile of one N/10 export, the functions by own time.
"""

import argparse
import os
import resource
import socket
import time

from common import (
    SHOP_TABLES,
    empty_tables,
    process_stat,
    report_row,
    setup_django,
    shop_with_live_grant,
)

TARGET_SECONDS = 10.0
# The peak after N events may exceed the peak after N/10 by this much and still be flat
# (allocator noise), never by what N rows would take.
FLAT_SLACK_MIB = 16


def add_visit_events(account, owner, count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO remote_access_representativesession
                (staff_user_id, account_id, grant_id, team, ticket_reference, note, user_agent,
                 started_at, ended_at, end_reason, source_ip)
            SELECT %s, %s, (SELECT id FROM remote_access_remoteaccessgrant LIMIT 1), 'support',
                   '4411', '', '', now(), now(), 'exit', '203.0.113.7'
            RETURNING id
            """,
            [owner.pk, account.pk],
        )
        visit_id = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO remote_access_accessevent
                (account_id, kind, actor_id, actor_role, actor_team, session_id, grant_id,
                 object_type, object_id, object_label, method, path, result, payload,
                 created_at)
            SELECT %s, 'page_viewed', %s, '', 'support',
                   CASE WHEN n %% 2 = 0 THEN %s END,
                   CASE WHEN n %% 2 = 0 THEN (SELECT grant_id FROM
                        remote_access_representativesession WHERE id = %s) END,
                   'page', 'audience:segments', 'Segments',
                   'GET', '/audience/segments/', 200, '{}'::jsonb, now() - n * interval '1 s'
            FROM generate_series(1, %s) AS n
            """,
            [account.pk, owner.pk, visit_id, visit_id, count],
        )
        cursor.execute("ANALYZE remote_access_accessevent")


def export_in_process(client) -> tuple[float, int, int, float, float, float]:
    """Time, bytes, lines, and the process's peak resident memory so far (tracemalloc would
    slow the export several times over; a flat peak from N/10 to N is what matters)."""
    cpu = time.process_time()
    started = time.perf_counter()
    response = client.get("/settings/security/history.csv")
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return elapsed, size, lines, peak, time.process_time() - cpu, 0.0


def _workers(server) -> list[str]:
    with open(f"/proc/{server.pid}/task/{server.pid}/children") as children:
        return children.read().split()


def workers_peak_mib(server) -> float:
    """The highest peak resident memory (VmHWM) of the gunicorn workers, in MiB."""
    peaks = []
    for pid in _workers(server):
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def workers_cpu_seconds(server) -> tuple[float, float]:
    """CPU time the gunicorn workers used so far — what the export costs whatever else the
    machine runs (PostgreSQL's share, on another core, not included) — and the time their
    threads were ready to run but waited for a core other processes held."""
    cpu = waited = 0
    for pid in _workers(server):
        cpu += process_stat(pid).cpu_seconds
        for thread in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{thread}/schedstat") as schedstat:
                waited += int(schedstat.read().split()[1])  # run delay, ns
    return cpu, waited / 1e9


def export_through_gunicorn(server, port: int, cookie: str) -> tuple[float, int, int, float, float]:
    """The same download from a gunicorn started as bench/load.py starts it."""
    import urllib.request

    cpu, waited = workers_cpu_seconds(server)
    started = time.perf_counter()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/settings/security/history.csv", headers={"Cookie": cookie}
    )
    size = lines = 0
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - loopback
        assert response.status == 200
        while chunk := response.read(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    cpu_after, waited_after = workers_cpu_seconds(server)
    peak = workers_peak_mib(server)
    return elapsed, size, lines, peak, cpu_after - cpu, waited_after - waited


def free_port() -> int:
    """A port nobody listens on: other benchmarks may run bench/load.py's server meanwhile."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def profile_export(client) -> None:
    import cProfile
    import pstats

    export_in_process(client)  # the first request of a process imports and compiles
    profiler = cProfile.Profile()
    profiler.runcall(export_in_process, client)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--profile", action="store_true", help="with --in-process")
    args = parser.parse_args()
    through_gunicorn = not args.in_process
    if through_gunicorn:
        # One key for this process (which signs the session in) and gunicorn (which reads it).
        os.environ["SECRET_KEY"] = "export-" + os.urandom(16).hex()
    setup_django()
    from django.test import Client

    account, owner = shop_with_live_grant()
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    server = None
    if through_gunicorn:
        from load import start_gunicorn

        cookie = f"sessionid={client.cookies['sessionid'].value}"
        port = free_port()
        server = start_gunicorn(port)

    def export():
        if server is not None:
            return export_through_gunicorn(server, port, cookie)
        return export_in_process(client)

    small = args.events // 10
    results = []
    try:
        add_visit_events(account, owner, small)
        if args.profile:
            profile_export(client)
        results.append((small, *export()))
        add_visit_events(account, owner, args.events - small)
        for _run in range(2):
            results.append((args.events, *export()))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        empty_tables(*SHOP_TABLES)
    how = "through gunicorn (gthread)" if server else "in process"
    peak_name = "workers' peak memory" if server else "process peak memory"
    for total, elapsed, size, lines, peak, cpu, waited in results:
        print(
            f"export: {total:>9,} events {how}: {elapsed:.1f} s, {total / elapsed:,.0f} rows/s, "
            f"{size / 2**20:.0f} MiB of CSV, {lines - 1:,} rows arrived, {peak_name} "
            f"{peak:.0f} MiB, {cpu:.1f} s of Python CPU ({cpu / total * 1e6:.1f} µs a row)"
            + (f", {waited:.1f} s waiting for a busy core" if server else "")
        )
    big = [r for r in results if r[0] == args.events]
    complete = all(lines - 1 == total for total, _e, _s, lines, *_rest in results)
    flat = big[-1][4] <= results[0][4] + FLAT_SLACK_MIB
    fast = max(elapsed for _t, elapsed, *_rest in big) <= TARGET_SECONDS
    label = f"{args.events / 1e6:g}M" if args.events >= 1e6 else f"{args.events:,}"
    report_row(
        f"history CSV of {label} events {how}",
        ", ".join(f"{elapsed:.1f} s" for _t, elapsed, *_rest in big)
        + f", {big[-1][4]:.0f} MiB peak ({results[0][4]:.0f} at {small:,})"
        + ("" if complete else ", rows missing"),
        "≤ 10 s, flat memory",
        held=fast and flat and complete,
    )


if __name__ == "__main__":
    main()
