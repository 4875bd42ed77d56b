"""Template side of remote_access.timefmt: `{% load access_time %}` (instants: the `moment`
filter of `{% load moments %}`)."""

import datetime as dt

from django import template
from django.utils import timezone

from .. import timefmt

register = template.Library()


@register.simple_tag
def access_until(grant, zone=None) -> str:
    """`{% access_until grant current_account.timezone %}` — "until the end of …"."""
    return timefmt.grant_end_phrase(grant, zone)


@register.simple_tag
def time_left(until: dt.datetime) -> str:
    """`{% time_left grant.expires_at %}` — "3 weeks and 4 days from now"."""
    return timefmt.time_left(until=until, now=timezone.now())
