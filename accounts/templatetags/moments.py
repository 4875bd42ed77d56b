"""`{{ value|moment:current_account.timezone }}` — see accounts.timefmt."""

import datetime as dt

from django import template

from .. import timefmt

register = template.Library()


@register.filter
def moment(value: dt.datetime | None, zone) -> str:
    if value is None:
        return ""
    return timefmt.moment(value, zone)
