"""The one way the site writes an instant: "Mon 30 Nov 2026, 00:36 EST", in the account's
zone with the zone's abbreviation. remote_access.timefmt builds its end-of-access phrases on
these; templates use the filters of `{% load moments %}`.

Written here rather than by Django's date formatting, which read the format string, looked
up the language's format settings and called a method per letter on every call: 30 µs an
instant, two thirds of what the Security tab's history rows cost (bench/pages.py). The texts
are Django's for these formats, letter for letter, in every language Django translates
(tests/accounts/test_timefmt.py compares them).
"""

import datetime as dt
import functools
import zoneinfo

from django.utils import translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR

# What each function writes, as a Django date format (the test compares the two).
MOMENT_FORMAT = "D j M Y, H:i T"  # moment()
DAY_FORMAT = "D j M Y"  # day_text()
MINUTE_FORMAT = "H:i T"  # minute_text()
CLOCK_FORMAT = "H:i"  # clock_text()
ISO_FORMAT = "c"  # iso_text()


def as_zone(zone: zoneinfo.ZoneInfo | str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(zone) if isinstance(zone, str) else zone


def in_zone(value: dt.datetime, zone: zoneinfo.ZoneInfo | str) -> dt.datetime:
    """An instant as the clock in `zone` shows it: what the functions below write."""
    return value.astimezone(as_zone(zone))


@functools.cache
def _names(language: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The day and month abbreviations of `language` (the active one when first asked), as
    Django's "D" and "M" write them; month 0 is a blank, so that January is [1]."""
    days = tuple(str(WEEKDAYS_ABBR[day]) for day in range(7))
    months = ("", *(str(MONTHS_3[month]).title() for month in range(1, 13)))
    return days, months


def day_text(day: dt.date) -> str:
    """ "Mon 30 Nov 2026" — a day, or the day of an instant already in its zone."""
    days, months = _names(translation.get_language())
    return f"{days[day.weekday()]} {day.day} {months[day.month]} {day.year:04d}"


def clock_text(local: dt.datetime) -> str:
    """ "00:36" — the minute of an instant already in its zone."""
    return f"{local.hour:02d}:{local.minute:02d}"


def minute_text(local: dt.datetime) -> str:
    """ "00:36 EST" — the minute of an instant already in its zone, with the zone."""
    return f"{local.hour:02d}:{local.minute:02d} {local.tzname()}"


def iso_text(value: dt.datetime, zone: zoneinfo.ZoneInfo | str) -> str:
    """ "2026-11-30T00:36:05.123456-05:00" — for `<time datetime="…">`."""
    return in_zone(value, zone).isoformat()


def moment(value: dt.datetime, zone: zoneinfo.ZoneInfo | str) -> str:
    """ "Mon 30 Nov 2026, 00:36 EST" — an instant, in the account's zone."""
    local = in_zone(value, zone)
    return f"{day_text(local)}, {minute_text(local)}"
