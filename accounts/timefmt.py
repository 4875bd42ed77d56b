"""The one way the site writes an instant: "Mon 30 Nov 2026, 00:36 EST", in the account's
zone with the zone's abbreviation. remote_access.timefmt builds its end-of-access phrases on
these; templates use the `moment` filter (`{% load moments %}`)."""

import datetime as dt
import zoneinfo

from django.utils import formats

MOMENT_FORMAT = "D j M Y, H:i T"
DAY_FORMAT = "D j M Y"
MINUTE_FORMAT = "H:i T"


def as_zone(zone: zoneinfo.ZoneInfo | str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(zone) if isinstance(zone, str) else zone


def moment(value: dt.datetime, zone: zoneinfo.ZoneInfo | str) -> str:
    """ "Mon 30 Nov 2026, 00:36 EST" — an instant, in the account's zone."""
    return formats.date_format(value.astimezone(as_zone(zone)), MOMENT_FORMAT)
