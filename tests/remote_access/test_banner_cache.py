"""The support banner on every page of a visit is kept per process under everything it shows
(templates/remote_access/_representative_banner.html): a second page renders nothing of it,
the time left moves on, and its Exit button carries each page's own token."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from remote_access import timefmt
from tests.conftest import verify_two_factor
from tests.remote_access.factories import GrantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def inside(account, owner, support_staff, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 29, 19, 0, tzinfo=dt.UTC), tick=False)
    GrantFactory(account=account, granted_by=owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(support_staff)
    verify_two_factor(client, support_staff)
    enter = reverse("admin:accounts_account_enter", args=[account.pk])
    page = client.get(enter).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(enter, {"ticket_reference": "4411", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    return client


def banner(client) -> str:
    html = client.get("/").content.decode().replace("\xa0", " ")
    return html[html.index('class="rep-banner"') : html.index("</div>", html.index("rep-banner"))]


def test_the_banner_is_kept_and_the_time_left_moves_on(inside, monkeypatch, time_machine):
    phrases = []
    original = timefmt.grant_end_phrase
    monkeypatch.setattr(
        timefmt, "grant_end_phrase", lambda *a, **k: phrases.append(1) or original(*a, **k)
    )
    first = banner(inside)
    assert "ticket 4411" in first
    assert "1 week from now" in first
    assert banner(inside).split("csrfmiddlewaretoken")[0] == first.split("csrfmiddlewaretoken")[0]
    assert len(phrases) == 1, "the second page served the kept banner"
    # 20 minutes on: within the staff session's idle limit.
    time_machine.move_to(dt.datetime(2026, 11, 29, 19, 20, tzinfo=dt.UTC), tick=False)
    assert "6 days and 23 hours from now" in banner(inside)


def test_the_kept_exit_button_works(inside, account):
    banner(inside)
    html = banner(inside)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = inside.post(
        reverse("remote_access:representative_exit"), {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert "rep-banner" not in inside.get(reverse("admin:index")).content.decode()
