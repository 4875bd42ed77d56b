"""The Security tab's remote-access panel (status, what support can never do, the grant and
remove forms) is kept per process under everything it shows
(remote_access.views.remote_access_panel_key): a second look renders nothing, and whatever
changes what it shows — a grant, a removal, time passing, a rename, the zone, turning access
off, who is looking — shows at once."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from remote_access import timefmt
from tests.conftest import verify_two_factor
from tests.remote_access.factories import GrantFactory

pytestmark = pytest.mark.django_db

SECURITY = reverse("remote_access:security")


def panel(client) -> str:
    response = client.get(SECURITY)
    assert response.status_code == 200
    html = response.content.decode().replace("\xa0", " ")  # timeuntil's no-break spaces
    return html[html.index('id="remote-access"') : html.index("</section>")]


@pytest.fixture
def renders(monkeypatch):
    """How many times the panel was rendered rather than served as kept: it alone asks for
    the zone's abbreviations."""
    count = []
    original = timefmt.zone_abbreviations

    def counted(**kwargs):
        count.append(1)
        return original(**kwargs)

    monkeypatch.setattr(timefmt, "zone_abbreviations", counted)
    return count


def test_a_second_look_serves_the_kept_panel_with_this_pages_token(owner_client, renders):
    first = panel(owner_client)
    second = panel(owner_client)
    assert len(renders) == 1
    assert "Grant access for" in second
    token = 'name="csrfmiddlewaretoken" value="'
    assert first.split(token)[1][:64] != second.split(token)[1][:64], "each page its own mask"
    assert first.split(token)[0] == second.split(token)[0]


def test_what_the_panel_shows_changes_it_at_once(owner, owner_client, account, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 29, 19, 0, tzinfo=dt.UTC), tick=False)
    assert "No access" in panel(owner_client)

    owner_client.post(SECURITY, {"duration": "7d", "current_grant": ""})
    html = panel(owner_client)
    assert "Access is on" in html
    assert "1 week from now" in html
    assert "Change access to" in html

    time_machine.move_to(dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC), tick=False)
    assert "6 days and 18 hours from now" in panel(owner_client)

    owner.full_name = "Olivia Owens"
    owner.save()
    assert "Olivia Owens" in panel(owner_client)

    account.timezone = "America/Chicago"  # the same day as New York: only the zone changes
    account.save()
    assert 'data-zone="America/Chicago"' in panel(owner_client)

    grant = account.remote_access_grants.get()
    owner_client.post(reverse("remote_access:grant_remove", args=[grant.pk]))
    assert "No access" in panel(owner_client)

    account.remote_access_disabled = True
    account.save()
    html = panel(owner_client)
    assert "Turned off" in html
    assert "Grant access for" not in html


def test_a_new_day_moves_the_custom_dates_bounds(owner_client, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 29, 19, 0, tzinfo=dt.UTC), tick=False)
    assert 'min="2026-11-30"' in panel(owner_client)
    # 01:00 the next day in New York, within the session's idle limit.
    time_machine.move_to(dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC), tick=False)
    assert 'min="2026-12-01"' in panel(owner_client)


def test_who_looks_decides_the_panel(owner, analyst, support_staff, account, client_for):
    """The Owner's kept panel, with its forms, is never served to an Analyst (who is told who
    can grant) nor to support inside the account (who sees the status only)."""
    GrantFactory(account=account, granted_by=owner)
    assert "Change access to" in panel(client_for(owner))

    html = panel(client_for(analyst))
    assert "Change access to" not in html
    assert "Only Owners and Admins can grant or remove access." in html
    assert "Olivia Owner (owner@acme.test)" in html

    rep = Client()
    rep.force_login(support_staff)
    verify_two_factor(rep, support_staff)
    enter = reverse("admin:accounts_account_enter", args=[account.pk])
    assert rep.post(enter, {"ticket_reference": "4411"}).status_code == 302
    html = panel(rep)
    assert "Access is on" in html
    assert "Change access to" not in html
    assert "Only Owners and Admins" not in html
    assert "<form" not in html


def test_a_form_sent_back_with_an_error_is_never_kept(owner_client, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 29, 19, 0, tzinfo=dt.UTC), tick=False)
    panel(owner_client)  # the fresh panel, kept
    response = owner_client.post(SECURITY, {"duration": "custom", "last_day": "next tuesday"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="next tuesday"' in html
    assert "YYYY-MM-DD" in html
    again = panel(owner_client)
    assert "next tuesday" not in again
    assert "YYYY-MM-DD" not in again.split("<form")[1].split("</legend>")[0]
