"""Instants in templates, in the account's zone — see accounts.timefmt:

    {% with zone=current_account.timezone %}
    <time datetime="{{ value|iso:zone }}">{{ value|moment:zone }}</time>

`moment` "Mon 30 Nov 2026, 00:36 EST"; `minute` "00:36 EST"; `clock` "00:36"; `iso` the
ISO 8601 text for a `datetime` attribute. None writes nothing.
"""

import datetime as dt

from django import template

from .. import timefmt

register = template.Library()


@register.filter
def moment(value: dt.datetime | None, zone) -> str:
    if value is None:
        return ""
    return timefmt.moment(value, zone)


@register.filter
def iso(value: dt.datetime | None, zone) -> str:
    if value is None:
        return ""
    return timefmt.iso_text(value, zone)


@register.filter
def minute(value: dt.datetime | None, zone) -> str:
    if value is None:
        return ""
    return timefmt.minute_text(timefmt.in_zone(value, zone))


@register.filter
def clock(value: dt.datetime | None, zone) -> str:
    if value is None:
        return ""
    return timefmt.clock_text(timefmt.in_zone(value, zone))
