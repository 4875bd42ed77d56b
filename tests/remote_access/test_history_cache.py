"""The Security tab keeps its rendered history per process under the account's newest event
id (remote_access.history.HistoryPage): whatever changes what the history shows changes the
key, so a kept page is never out of date for long (HISTORY_KEPT_SECONDS)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from remote_access.models import AccessEvent
from tests.remote_access.factories import AccessEventFactory, event_committed_late

pytestmark = pytest.mark.django_db

SECURITY = reverse("remote_access:security")


def history_html(client) -> str:
    response = client.get(SECURITY)
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('id="access-history"') :]


def test_a_second_look_reuses_the_rendered_history_and_reads_no_events(owner_client, account):
    AccessEventFactory(account=account, summary="looked at the segments")
    first = history_html(owner_client)
    with CaptureQueriesContext(connection) as queries:
        second = history_html(owner_client)
    assert second == first
    assert "looked at the segments" in second
    event_reads = [q["sql"] for q in queries if "remote_access_accessevent" in q["sql"]]
    assert len(event_reads) == 1, "only the newest event id, not the page of events"


def test_an_event_written_late_with_an_earlier_time_shows_at_once(owner_client, account):
    """Like an expiry the sweep reaches after the fact: older time, newer id."""
    AccessEventFactory(account=account, summary="opened the orders")
    history_html(owner_client)
    AccessEventFactory(
        account=account,
        summary="written late",
        created_at=timezone.now() - dt.timedelta(hours=2),
    )
    assert "written late" in history_html(owner_client)


def test_another_time_zone_renders_its_own_times(owner_client, account):
    AccessEventFactory(account=account, created_at=dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC))
    assert account.timezone == "America/New_York"
    assert "07:00 EST" in history_html(owner_client)
    account.timezone = "Europe/Paris"
    account.save(update_fields=["timezone"])
    assert "13:00 CET" in history_html(owner_client)


def test_people_without_the_export_get_no_export_link_from_the_cache(
    owner, analyst, client_for, account
):
    AccessEventFactory(account=account)
    export = reverse("remote_access:history_export")
    assert export in history_html(client_for(owner))
    assert export not in history_html(client_for(analyst))


def test_pages_are_kept_apart(owner_client, account):
    for n in range(30):
        AccessEventFactory(account=account, summary=f"step {n:02d}")
    older = owner_client.get(SECURITY).context["history"].older
    assert "step 29" in history_html(owner_client)
    page_two = owner_client.get(SECURITY, {"before": older}).content.decode()
    assert "step 00" in page_two
    assert "step 29" not in page_two


def test_the_grant_form_follows_the_live_grant_and_the_day(owner, client_for, account):
    """The unbound grant form is kept per process too, under the live grant and the
    account's today: a new grant or a new day renders it afresh."""
    import re

    import time_machine

    def form_html() -> str:
        # Signed in afresh at each moment: a day later the idle limit has signed them out.
        html = client_for(owner).get(SECURITY).content.decode()
        start = html.index('class="grant-form"')
        return html[start : html.index("</form>", start)]

    def checked(html: str) -> list[str]:
        return re.findall(r'value="(\w+)"[^>]*checked', html)

    start = timezone.now()
    tomorrow = (start.astimezone(account.tzinfo) + dt.timedelta(days=1)).date()
    with time_machine.travel(start, tick=False):
        before = form_html()
        assert "Grant access for" in before
        assert f'min="{tomorrow.isoformat()}"' in before
        assert client_for(owner).post(SECURITY, {"duration": "30d"}).status_code == 302
        after = form_html()
        assert "Change access to" in after
        assert "30d" in checked(after)
    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        later = form_html()
        assert f'min="{(tomorrow + dt.timedelta(days=1)).isoformat()}"' in later


@pytest.mark.usefixtures("round_trips_counted")
def test_the_tab_reads_grant_requests_and_history_key_in_one_round_trip(
    owner_client, account, owner
):
    from tests.remote_access.factories import (
        AccessRequestFactory,
        GrantFactory,
        RepresentativeSessionFactory,
    )

    grant = GrantFactory(account=account, granted_by=owner)
    RepresentativeSessionFactory(account=account, grant=grant, ticket_reference="T-4242")
    AccessRequestFactory(account=account)
    history_html(owner_client)
    with CaptureQueriesContext(connection) as queries:
        html = owner_client.get(SECURITY).content.decode()
    assert "ticket T-4242" in html, "the live notice"
    # All with the session and the signed-in user (the account the session keeps).
    assert len(queries) == 1, [q["sql"] for q in queries]
    (together,) = [q["sql"] for q in queries]
    assert '"accounts_membership"' in together
    assert "remote_access_representativesession" in together
    for table in ("remoteaccessgrant", "accessrequest", "accessevent"):
        assert f'FROM "remote_access_{table}"' in together


@pytest.mark.usefixtures("round_trips_counted")
def test_the_live_notice_comes_with_the_signed_in_user_in_one_round_trip(
    owner, client_for, account, other_account
):
    """accounts.backends reads the visits going on in the user's accounts in the same round
    trip as the user and memberships; each account's pages show only their own."""
    from accounts.roles import Role
    from tests.accounts.factories import MembershipFactory
    from tests.remote_access.factories import GrantFactory, RepresentativeSessionFactory

    MembershipFactory(user=owner, account=other_account, role=Role.OWNER)
    grant = GrantFactory(account=account, granted_by=owner)
    RepresentativeSessionFactory(account=account, grant=grant, ticket_reference="T-1111")
    elsewhere = GrantFactory(account=other_account, granted_by=owner)
    RepresentativeSessionFactory(account=other_account, grant=elsewhere, ticket_reference="T-2222")
    client = client_for(owner)
    home = reverse("accounts:home")
    client.get(home)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(home).content.decode()
    assert "ticket T-1111" in html
    assert "ticket T-2222" not in html
    visits = [q["sql"] for q in queries if 'FROM "remote_access_representativesession"' in q["sql"]]
    assert len(visits) == 1
    assert '"accounts_membership"' in visits[0], "the same statement batch as the memberships"


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_after_a_newer_one_shows_once_the_kept_page_lapses(
    owner_client, account, monkeypatch
):
    """An event's id is taken when it is written, not when it commits: a transaction that
    wrote an event and commits after another event was written and committed leaves a page
    kept under the newer id without it. So a kept page lapses after HISTORY_KEPT_SECONDS,
    longer than any transaction that writes an event lasts, and the page read then has it.
    """
    from django.core.cache.backends import locmem

    from remote_access.history import HISTORY_KEPT_SECONDS

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing commits out of order")
    AccessEventFactory(account=account, summary="opened the orders")
    history_html(owner_client)
    with event_committed_late(account=account, summary="committed late"):
        newer = AccessEventFactory(account=account, summary="committed first")
        assert "committed first" in history_html(owner_client)  # kept under `newer`'s id
    late = AccessEvent.objects.get(payload__action="committed late")
    assert late.pk < newer.pk, "the late event took its id first"
    assert "committed late" not in history_html(owner_client), "kept without it, for now"

    clock = locmem.time.time
    monkeypatch.setattr(
        locmem, "time", SimpleNamespace(time=lambda: clock() + HISTORY_KEPT_SECONDS + 1)
    )
    assert "committed late" in history_html(owner_client)
