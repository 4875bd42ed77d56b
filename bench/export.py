"""The access-history CSV export of a long history: time and peak Python memory.

    python bench/export.py [--events 1000000] [--gunicorn]

Streams the export of N events (half of them inside support visits, so each row reads its
visit) through Django's handler and prints the time, the rows per second and the process's
peak memory at N/10 and N (target: <= 10 s for 1M, flat memory). With --gunicorn the same
download goes through gunicorn as the Procfile runs it (gthread workers, production
settings) over loopback, which shows whether a worker timeout ever cuts it.
"""

import argparse
import resource
import time

from common import SHOP_TABLES, empty_tables, setup_django, shop_with_live_grant


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
                (account_id, kind, actor_id, actor_role, actor_team, session_id, object_type,
                 object_id, object_label, method, path, result, payload, created_at)
            SELECT %s, 'page_viewed', %s, '', 'support',
                   CASE WHEN n %% 2 = 0 THEN %s END, 'page', 'audience:segments', 'Segments',
                   'GET', '/audience/segments/', 200, '{}'::jsonb, now() - n * interval '1 s'
            FROM generate_series(1, %s) AS n
            """,
            [account.pk, owner.pk, visit_id, count],
        )
        cursor.execute("ANALYZE remote_access_accessevent")


def export(client) -> tuple[float, int, float]:
    """Time, bytes, and the process's peak resident memory so far (tracemalloc would slow
    the export several times over; a flat peak from N/10 to N is what matters)."""
    started = time.perf_counter()
    response = client.get("/settings/security/history.csv")
    size = sum(len(chunk) for chunk in response.streaming_content)
    elapsed = time.perf_counter() - started
    return elapsed, size, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export_through_gunicorn(cookie: str) -> tuple[float, int, float]:
    """The same download from a gunicorn started as bench/load.py starts it."""
    import urllib.request

    from load import PORT

    started = time.perf_counter()
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/settings/security/history.csv", headers={"Cookie": cookie}
    )
    size = 0
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - loopback
        assert response.status == 200
        while chunk := response.read(1 << 16):
            size += len(chunk)
    return time.perf_counter() - started, size, 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--gunicorn", action="store_true")
    args = parser.parse_args()
    if args.gunicorn:
        import os

        # One key for this process (which signs the session in) and gunicorn (which reads it).
        os.environ["SECRET_KEY"] = "export-" + os.urandom(16).hex()
    setup_django()
    from django.test import Client

    account, owner = shop_with_live_grant()
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    server = None
    if args.gunicorn:
        from load import start_gunicorn

        cookie = f"sessionid={client.cookies['sessionid'].value}"
        server = start_gunicorn()
    results = {}
    small = args.events // 10
    try:
        for total in (small, args.events):
            add_visit_events(account, owner, total - (small if results else 0))
            results[total] = export_through_gunicorn(cookie) if server else export(client)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    for total, (elapsed, size, peak) in results.items():
        print(
            f"export: {total:>9,} events: {elapsed:.1f} s, {total / elapsed:,.0f} rows/s, "
            f"{size / 2**20:.0f} MiB of CSV"
            + (", through gunicorn" if server else f", peak process memory {peak:.0f} MiB")
        )
    empty_tables(*SHOP_TABLES)


if __name__ == "__main__":
    main()
