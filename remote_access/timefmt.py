"""One way to write when access ends, wherever it is written: the Security tab, the access
history, the mails, the support banner and the admin pages.

Every time is shown in the account's zone with the zone's abbreviation ("Mon 30 Nov 2026,
00:36 EST"). A custom date is a day that access lasts through, so it is written as that day
and its last minute ("until the end of Thu 24 Dec 2026 (23:59 EST)"), never as the midnight
after it, which reads as the next day.
"""

import datetime as dt
import zoneinfo

from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.timefmt import as_zone, day_text, in_zone, minute_text, moment

from .models import Duration

__all__ = [
    "change_phrase",
    "end_phrase",
    "grant_end_phrase",
    "moment",
    "preview_words",
    "time_left",
]


def end_phrase(*, expires_at: dt.datetime, duration: str, zone: zoneinfo.ZoneInfo | str) -> str:
    """ "until the end of Thu 24 Dec 2026 (23:59 EST)" for a custom date, "until Mon 30 Nov
    2026, 00:36 EST" for a fixed period."""
    if duration == Duration.CUSTOM:
        last_minute = in_zone(expires_at, zone) - dt.timedelta(minutes=1)
        return _("until the end of %(day)s (%(minute)s)") % {
            "day": day_text(last_minute),
            "minute": minute_text(last_minute),
        }
    return _("until %(moment)s") % {"moment": moment(expires_at, zone)}


def grant_end_phrase(grant, zone: zoneinfo.ZoneInfo | str | None = None) -> str:
    """`end_phrase` of a grant; pass the zone when the account is already at hand. A grant
    tied to a support request ends when the request is resolved, or at its latest end."""
    zone = zone if zone is not None else grant.account.tzinfo
    if grant.duration == Duration.UNTIL_RESOLVED:
        return _("until request #%(number)s is resolved (at the latest %(moment)s)") % {
            "number": grant.support_request_id,
            "moment": moment(grant.expires_at, zone),
        }
    return end_phrase(expires_at=grant.expires_at, duration=grant.duration, zone=zone)


def time_left(*, until: dt.datetime, now: dt.datetime) -> str:
    """ "3 weeks and 4 days from now"."""
    parts = timeuntil(until, now, depth=2).split(", ")
    joined = _(" and ").join(parts) if len(parts) == 2 else parts[0]
    return _("%(left)s from now") % {"left": joined}


def _days_or_hours(delta: dt.timedelta) -> str:
    hours = round(abs(delta).total_seconds() / 3600)
    if hours >= 24:
        days = round(hours / 24)
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def change_phrase(*, old_end: dt.datetime, new_end: dt.datetime) -> str:
    """ "6 days shorter than now" — how a new end compares with the current one."""
    delta = new_end - old_end
    if abs(delta) < dt.timedelta(minutes=30):
        return _("about the same as now")
    if delta < dt.timedelta(0):
        return _("%(amount)s shorter than now") % {"amount": _days_or_hours(delta)}
    return _("%(amount)s longer than now") % {"amount": _days_or_hours(delta)}


def zone_abbreviations(*, zone: zoneinfo.ZoneInfo | str, now: dt.datetime) -> dict[int, str]:
    """The zone's abbreviation for each UTC offset (in minutes) it uses in the coming year, so
    the page's script writes a previewed end exactly as the server writes it."""
    zone = as_zone(zone)
    found: dict[int, str] = {}
    for day in range(0, 367, 7):
        local = (now + dt.timedelta(days=day)).astimezone(zone)
        offset = local.utcoffset() or dt.timedelta(0)
        found.setdefault(int(offset.total_seconds() // 60), local.tzname() or "")
    return found


def preview_words() -> dict[str, str]:
    """The words the Security tab's script writes the "New end" preview with, translated
    here so the preview reads in the person's language; `{}` marks what the script fills."""
    return {
        "new_end": _("New end: {}"),
        "end_of_day": _("the end of {} (23:59 {})"),
        "same": _("about the same as now"),
        "shorter": _("{} shorter than now"),
        "longer": _("{} longer than now"),
        "day": _("{} day"),
        "days": _("{} days"),
        "hour": _("{} hour"),
        "hours": _("{} hours"),
    }
