"""When a grant ends.

Durations count from the moment of saving; a custom date is a day in the account's zone.
"""

import datetime as dt

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from accounts.models import Account

from .models import Duration

DURATION_DAYS = {
    Duration.ONE_DAY: 1,
    Duration.SEVEN_DAYS: 7,
    Duration.THIRTY_DAYS: 30,
    Duration.NINETY_DAYS: 90,
    # Its real end is the support request being resolved; this is the latest it can last.
    Duration.UNTIL_RESOLVED: 30,
}
# What support may ask for, and a merchant may grant on the Security tab: every period but
# "until resolved", which only exists alongside a support request.
GRANT_PERIODS = [choice for choice in Duration.choices if choice[0] != Duration.UNTIL_RESOLVED]
CUSTOM_DATE_MAX_DAYS = 365

CUSTOM_DATE_REQUIRED = gettext_lazy(
    "Pick the last day of access, or choose one of the fixed periods."
)
CUSTOM_DATE_TOO_SOON = gettext_lazy("Pick a date from tomorrow on; for today only, choose 1 day.")
CUSTOM_DATE_TOO_LATE = format_lazy(
    gettext_lazy("Pick a date at most {days} days from today."), days=CUSTOM_DATE_MAX_DAYS
)


def account_today(*, account: Account, now: dt.datetime) -> dt.date:
    return now.astimezone(account.tzinfo).date()


def custom_date_bounds(*, account: Account, now: dt.datetime) -> tuple[dt.date, dt.date]:
    today = account_today(account=account, now=now)
    return today + dt.timedelta(days=1), today + dt.timedelta(days=CUSTOM_DATE_MAX_DAYS)


def custom_date_error(*, account: Account, now: dt.datetime, last_day: dt.date) -> str | None:
    earliest, latest = custom_date_bounds(account=account, now=now)
    if last_day < earliest:
        return CUSTOM_DATE_TOO_SOON
    if last_day > latest:
        return CUSTOM_DATE_TOO_LATE
    return None


def expires_at_for(
    *, account: Account, duration: str, now: dt.datetime, last_day: dt.date | None = None
) -> dt.datetime:
    """The instant a grant saved at `now` stops being live."""
    if duration == Duration.CUSTOM:
        if last_day is None:
            raise ValueError("A custom grant needs its last day.")
        # Access lasts through the last day: it ends at the next midnight in the account's zone.
        midnight = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, account.tzinfo)
        return midnight.astimezone(dt.UTC)
    return now + dt.timedelta(days=DURATION_DAYS[Duration(duration)])


# Granting access for longer than this asks for the password again (sudo mode, accounts/sudo.py).
SUDO_GRANT_DAYS = 7


def grant_is_long(
    *, account: Account, duration: str, now: dt.datetime, last_day: dt.date | None = None
) -> bool:
    """A grant saved now would last more than SUDO_GRANT_DAYS."""
    expires_at = expires_at_for(account=account, duration=duration, now=now, last_day=last_day)
    return expires_at - now > dt.timedelta(days=SUDO_GRANT_DAYS)
