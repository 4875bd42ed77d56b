import datetime as dt

import pytest

from accounts.models import Account
from remote_access.periods import (
    CUSTOM_DATE_TOO_LATE,
    CUSTOM_DATE_TOO_SOON,
    custom_date_error,
    expires_at_for,
)

UTC = dt.UTC


def account_in(zone: str) -> Account:
    return Account(name="Acme Store", timezone=zone)


@pytest.mark.parametrize(
    ("zone", "last_day", "expected_utc"),
    [
        # Auckland: NZST (+12) until 2026-09-27, NZDT (+13) after; back to +12 on 2027-04-04.
        ("Pacific/Auckland", dt.date(2026, 9, 26), dt.datetime(2026, 9, 26, 12, 0, tzinfo=UTC)),
        ("Pacific/Auckland", dt.date(2026, 9, 27), dt.datetime(2026, 9, 27, 11, 0, tzinfo=UTC)),
        ("Pacific/Auckland", dt.date(2027, 4, 3), dt.datetime(2027, 4, 3, 11, 0, tzinfo=UTC)),
        ("Pacific/Auckland", dt.date(2027, 4, 4), dt.datetime(2027, 4, 4, 12, 0, tzinfo=UTC)),
        # Los Angeles: PDT (-7) until 2026-11-01 02:00, PST (-8) after; PDT again 2027-03-14.
        ("America/Los_Angeles", dt.date(2026, 10, 31), dt.datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),
        ("America/Los_Angeles", dt.date(2026, 11, 1), dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)),
        ("America/Los_Angeles", dt.date(2027, 3, 13), dt.datetime(2027, 3, 14, 8, 0, tzinfo=UTC)),
        ("America/Los_Angeles", dt.date(2027, 3, 14), dt.datetime(2027, 3, 15, 7, 0, tzinfo=UTC)),
        ("UTC", dt.date(2026, 12, 31), dt.datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_expires_at_for__custom_date_ends_at_next_local_midnight(zone, last_day, expected_utc):
    """A custom date lasts through that day: expiry is the next midnight in the account's zone."""
    account = account_in(zone)
    now = dt.datetime(2026, 8, 1, tzinfo=UTC)
    expires = expires_at_for(account=account, duration="custom", now=now, last_day=last_day)
    assert expires == expected_utc
    local = expires.astimezone(account.tzinfo)
    assert (local.hour, local.minute) == (0, 0)
    assert local.date() == last_day + dt.timedelta(days=1)


def test_expires_at_for__a_day_is_24_hours_even_across_dst():
    account = account_in("America/Los_Angeles")
    now = dt.datetime(2026, 10, 31, 20, 0, tzinfo=UTC)
    assert expires_at_for(account=account, duration="1d", now=now) - now == dt.timedelta(hours=24)


@pytest.mark.parametrize(
    ("zone", "now_utc", "last_day", "error"),
    [
        # 2026-11-29 10:30 UTC is already 2026-11-29 23:30 in Auckland: "today" there.
        (
            "Pacific/Auckland",
            dt.datetime(2026, 11, 29, 10, 30, tzinfo=UTC),
            dt.date(2026, 11, 29),
            CUSTOM_DATE_TOO_SOON,
        ),
        (
            "Pacific/Auckland",
            dt.datetime(2026, 11, 29, 10, 30, tzinfo=UTC),
            dt.date(2026, 11, 30),
            None,
        ),
        # ...but 11:30 UTC is 2026-11-30 00:30 there, so the 30th became today.
        (
            "Pacific/Auckland",
            dt.datetime(2026, 11, 29, 11, 30, tzinfo=UTC),
            dt.date(2026, 11, 30),
            CUSTOM_DATE_TOO_SOON,
        ),
        # In Los Angeles 2026-11-30 03:00 UTC is still the 29th.
        (
            "America/Los_Angeles",
            dt.datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
            dt.date(2026, 11, 30),
            None,
        ),
        (
            "America/Los_Angeles",
            dt.datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
            dt.date(2027, 11, 29),
            None,
        ),
        (
            "America/Los_Angeles",
            dt.datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
            dt.date(2027, 11, 30),
            CUSTOM_DATE_TOO_LATE,
        ),
    ],
)
def test_custom_date_error__bounds_in_the_accounts_zone(zone, now_utc, last_day, error):
    assert custom_date_error(account=account_in(zone), now=now_utc, last_day=last_day) == error
