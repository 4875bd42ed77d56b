"""One way to write when access ends: the Security tab, the access history, the mail and the
support banner say the same words, in the account's zone, across a daylight-saving change."""

import datetime as dt
import html

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from remote_access.events import describe
from remote_access.timefmt import change_phrase, end_phrase, time_left
from tests.conftest import verify_two_factor

SECURITY = "/settings/security/"


def _day_after_next_clock_change(zone) -> dt.date:
    """A day a few days past the account's next daylight-saving change (within the year)."""
    today = dt.datetime.now(zone)
    offset = today.utcoffset()
    for days in range(1, 300):
        day = today + dt.timedelta(days=days)
        if day.utcoffset() != offset:
            return day.date() + dt.timedelta(days=3)
    pytest.skip("the zone has no clock change in the coming year")


def _expected(last_day: dt.date, zone) -> str:
    """Written independently of remote_access.timefmt, from the definition."""
    last_minute = dt.datetime.combine(last_day, dt.time(23, 59), zone)
    return (
        f"until the end of {last_day.strftime('%a')} {last_day.day} "
        f"{last_day.strftime('%b %Y')} (23:59 {last_minute.tzname()})"
    )


def test_custom_date__same_words_on_page_history_mail_and_banner(
    account, owner, admin, support_staff, django_capture_on_commit_callbacks
):
    zone = account.tzinfo
    last_day = _day_after_next_clock_change(zone)
    expected = _expected(last_day, zone)
    today_abbreviation = dt.datetime.now(zone).tzname()
    assert today_abbreviation not in expected, "the chosen day is across a clock change"

    merchant = Client()
    merchant.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant.post(
            SECURITY, {"duration": "custom", "last_day": last_day.isoformat()}, follow=True
        )
    page = html.unescape(response.content.decode())
    assert expected in page.split('id="access-history"')[0], "the Security tab's status"
    assert f"Olivia Owner granted access {expected}" in page, "the history on the page"
    assert describe(account.access_events.get()) == f"Olivia Owner granted access {expected}"
    assert len(mail.outbox) == 1
    assert expected in mail.outbox[0].body
    assert expected in html.unescape(mail.outbox[0].alternatives[0][0])

    desk = Client()
    desk.force_login(support_staff)
    verify_two_factor(desk, support_staff)
    entered = desk.post(
        reverse("admin:accounts_account_enter", args=[account.pk]), {"ticket_reference": "1"}
    )
    assert entered.status_code == 302
    banner = html.unescape(desk.get("/").content.decode())
    assert f"access granted by Olivia Owner · {expected}" in " ".join(banner.split())


def test_fixed_period__shows_the_exact_end_in_the_account_zone():
    zone = "America/New_York"
    end = dt.datetime(2026, 11, 30, 5, 36, tzinfo=dt.UTC)
    phrase = end_phrase(expires_at=end, duration="7d", zone=zone)
    assert phrase == "until Mon 30 Nov 2026, 00:36 EST"


def test_custom_date__is_the_day_itself_not_the_midnight_after():
    zone = "America/New_York"
    midnight_after = dt.datetime(2026, 12, 25, 5, 0, tzinfo=dt.UTC)  # 00:00 EST on the 25th
    phrase = end_phrase(expires_at=midnight_after, duration="custom", zone=zone)
    assert phrase == "until the end of Thu 24 Dec 2026 (23:59 EST)"


@pytest.mark.parametrize(
    ("days", "words"),
    [(-6, "6 days shorter than now"), (23, "23 days longer than now"), (0, "about the same")],
)
def test_change_phrase__compares_the_new_end_with_the_current_one(days, words):
    old = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    assert change_phrase(old_end=old, new_end=old + dt.timedelta(days=days)).startswith(words)


def test_time_left__reads_as_a_sentence():
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    left = time_left(until=now + dt.timedelta(days=25), now=now)
    assert left == "3\xa0weeks and 4\xa0days from now"
