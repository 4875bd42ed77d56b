"""The Security tab with a long history, and a representative's request against an Admin's.

    python bench/pages.py [--requests 200] [--events 100000]

Prints, from one run: SQL queries and median server time of the Security tab (with the
first page of its access history) at 0, 1,000 and --events history events (targets: the same
queries, time within 1.5x of the empty case), and its page 1,000 against page 1 (keyset
pagination: the same cost); and the extra queries and median time ratio of
a support representative's request against the same request by an Admin (targets: at most
one more query, ratio <= 1.15).
"""

import argparse
import statistics
import time

from common import SHOP_TABLES, empty_tables, setup_django, shop_with_live_grant


def measure(client, url: str, requests: int) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm up
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    # Count now: the log is emptied at the start of every request.
    queries = len(captured)
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        timings.append(time.perf_counter() - started)
    return queries, statistics.median(timings)


def add_events(account, count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO remote_access_accessevent
                (account_id, kind, actor_role, actor_team, object_type, object_id, object_label,
                 method, path, payload, created_at)
            SELECT %s, 'removed', 'owner', '', '', '', '', '', '', '{}'::jsonb,
                   now() - n * interval '1 second'
            FROM generate_series(1, %s) AS n
            """,
            [account.pk, count],
        )
        cursor.execute("ANALYZE remote_access_accessevent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    setup_django()
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Membership, User
    from remote_access.services.staff import staff_member_set_team

    account, owner = shop_with_live_grant()
    admin, _ = User.objects.get_or_create(email="admin@bench.test", defaults={"full_name": "Adam"})
    Membership.objects.create(user=admin, account=account, role="admin")
    now = timezone.now()
    owner_client = Client(HTTP_HOST="localhost")
    owner_client.force_login(owner)

    url = "/settings/security/"
    results = {}
    for total in (0, 1_000, args.events):
        add_events(account, total - sum(results) if results else total)
        results[total] = measure(owner_client, url, args.requests)
    base_queries, base_time = results[0]
    for total, (queries, median) in results.items():
        print(
            f"security tab: {total:>7} events: {queries} queries, median {median * 1000:.1f} ms"
            f" = {median / base_time:.2f}x of empty (target same queries, <= 1.5x)"
        )
    # Keyset pagination: page 1,000 (items 24,976-25,000) against page 1.
    from remote_access.history import HISTORY_PAGE_SIZE, _cursor_encode
    from remote_access.models import HISTORY_ITEM, AccessEvent

    before_page = AccessEvent.objects.filter(HISTORY_ITEM, account=account).order_by(
        "-created_at", "-id"
    )[HISTORY_PAGE_SIZE * 999 - 1]
    deep_url = url + "?before=" + _cursor_encode(before_page)
    deep_queries, deep_time = measure(owner_client, deep_url, args.requests)
    first_queries, first_time = measure(owner_client, url, args.requests)
    print(
        f"security tab: page 1,000 vs page 1 of {max(results):,} events: {deep_queries} vs "
        f"{first_queries} queries, median {deep_time * 1000:.1f} vs {first_time * 1000:.1f} ms"
        f" = {deep_time / first_time:.2f}x (target same queries, ~1x)"
    )

    # A representative against an Admin, on the same page of the same account.
    staff, _ = User.objects.get_or_create(
        email="support@bench.test", defaults={"full_name": "Sam", "is_staff": True}
    )
    staff_member_set_team(user=staff, team="Support")
    TOTPDevice.objects.filter(user=staff).delete()
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    rep_client = Client(HTTP_HOST="localhost")
    rep_client.force_login(staff)
    session = rep_client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    from remote_access.models import RepresentativeSession

    RepresentativeSession.objects.filter(staff_user=staff).update(ended_at=now)
    response = rep_client.post(
        f"/admin/accounts/account/{account.pk}/enter/", {"ticket_reference": "1"}
    )
    assert response.status_code == 302, response.content[:500]
    admin_client = Client(HTTP_HOST="localhost")
    admin_client.force_login(admin)
    page_url = "/audience/segments/"  # the same page for both: no role-dependent controls
    admin_queries, _ = measure(admin_client, page_url, 1)
    rep_queries, _ = measure(rep_client, page_url, 1)
    # Interleaved, so that the machine's drift weighs on both alike.
    timings = {"admin": [], "rep": []}
    for _ in range(args.requests):
        for who, client in (("admin", admin_client), ("rep", rep_client)):
            started = time.perf_counter()
            client.get(page_url)
            timings[who].append(time.perf_counter() - started)
    admin_time = statistics.median(timings["admin"])
    rep_time = statistics.median(timings["rep"])
    print(
        f"representative vs admin on {page_url}: {rep_queries} vs {admin_queries} queries "
        f"(+{rep_queries - admin_queries}, target <= 1), median {rep_time * 1000:.1f} vs "
        f"{admin_time * 1000:.1f} ms = {rep_time / admin_time:.2f}x (target <= 1.15)"
    )
    empty_tables(*SHOP_TABLES)


if __name__ == "__main__":
    main()
