"""accounts.timefmt writes instants as Django's date formats would, letter for letter, in
every language Django translates — and names the zone's abbreviation where Django leaves it
out (the repeated hour when clocks go back, which the abbreviation is what tells apart)."""

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import pytest
from django.conf import global_settings, settings
from django.utils import formats, translation
from django.utils.dateformat import _datetime_ambiguous_or_imaginary

from accounts import timefmt
from accounts.templatetags import moments

ZONES = [
    "UTC",
    "America/New_York",  # EST/EDT, clocks back an hour in November
    "Europe/Dublin",  # winter time is the "negative" daylight saving time
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # half an hour of daylight saving time
    "America/Sao_Paulo",  # no letters: "-03"
    "Pacific/Kiritimati",  # +14:00
]
# Instants around the turns of clocks, years and days, and ordinary ones.
INSTANTS = [
    dt.datetime(2026, 11, 1, 5, 30, 0, tzinfo=dt.UTC),  # 01:30 EDT, the hour that repeats
    dt.datetime(2026, 11, 1, 6, 30, 59, 999_999, tzinfo=dt.UTC),  # 01:30 EST
    dt.datetime(2026, 3, 8, 6, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 8, 7, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2027, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
    dt.datetime(2026, 4, 5, 15, 0, 0, tzinfo=dt.UTC),  # Lord Howe's clocks go back
    dt.datetime(2026, 10, 25, 1, 30, 0, tzinfo=dt.UTC),  # Dublin's go back
    *(
        dt.datetime(2026, month, day, 9, 7, 3, tzinfo=dt.UTC)
        for month in range(1, 13)
        for day in (1, 15)
    ),
]

# Each function, the Django format it stands for, and how it is given the instant.
IN_ZONE = {
    "moment": (timefmt.MOMENT_FORMAT, lambda value, zone: timefmt.moment(value, zone)),
    "day_text": (timefmt.DAY_FORMAT, lambda value, zone: timefmt.day_text(value.astimezone(zone))),
    "minute_text": (
        timefmt.MINUTE_FORMAT,
        lambda value, zone: timefmt.minute_text(value.astimezone(zone)),
    ),
    "clock_text": (
        timefmt.CLOCK_FORMAT,
        lambda value, zone: timefmt.clock_text(value.astimezone(zone)),
    ),
    "iso_text": (timefmt.ISO_FORMAT, lambda value, zone: timefmt.iso_text(value, zone)),
}


def test_every_format_of_the_module_is_compared():
    """A new writer of instants gets its format here, and so into the comparison below."""
    constants = {value for name, value in vars(timefmt).items() if name.endswith("_FORMAT")}
    assert constants == {fmt for fmt, _write in IN_ZONE.values()}


def django_text(value: dt.datetime, zone: zoneinfo.ZoneInfo, fmt: str) -> str:
    local = value.astimezone(zone)
    text = formats.date_format(local, fmt)
    if "T" in fmt and _datetime_ambiguous_or_imaginary(local, zone):
        # Django writes no abbreviation in the hour that repeats; we write the one that
        # tells the two apart.
        text += local.tzname()
    return text


@pytest.mark.parametrize("name", IN_ZONE)
@pytest.mark.parametrize("zone_name", ZONES)
def test_as_django_writes_it_in_english(name, zone_name):
    fmt, write = IN_ZONE[name]
    zone = zoneinfo.ZoneInfo(zone_name)
    with translation.override("en-us"):
        for value in INSTANTS:
            assert write(value, zone) == django_text(value, zone, fmt), (value, zone_name)


@pytest.mark.parametrize("language", [code for code, _name in global_settings.LANGUAGES])
def test_as_django_writes_it_in_every_language(language):
    zone = zoneinfo.ZoneInfo("America/New_York")
    with translation.override(language):
        for fmt, write in IN_ZONE.values():
            for value in INSTANTS:
                assert write(value, zone) == django_text(value, zone, fmt), (language, value)


def test_the_repeated_hour_is_told_apart():
    zone = "America/New_York"
    first, second = INSTANTS[0], INSTANTS[1]
    assert timefmt.moment(first, zone) == "Sun 1 Nov 2026, 01:30 EDT"
    assert timefmt.moment(second, zone) == "Sun 1 Nov 2026, 01:30 EST"


def test_filters_write_nothing_for_none_and_the_same_text_otherwise():
    value, zone = INSTANTS[1], "America/New_York"
    for name in ("moment", "iso", "minute", "clock"):
        assert getattr(moments, name)(None, zone) == ""
    assert moments.moment(value, zone) == timefmt.moment(value, zone)
    assert moments.iso(value, zone) == "2026-11-01T01:30:59.999999-05:00"
    assert moments.minute(value, zone) == "01:30 EST"
    assert moments.clock(value, zone) == "01:30"


# The Django date formats the moments filters write: a template uses the filter instead.
_DJANGO_DATE_OF_A_MOMENT = re.compile(
    r"\|date:[\"'](" + "|".join(re.escape(fmt) for fmt, _write in IN_ZONE.values()) + r")[\"']"
)


def test_templates_write_instants_with_the_moments_filters():
    found = []
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(directory).rglob("*.html"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if _DJANGO_DATE_OF_A_MOMENT.search(line):
                    found.append(f"{path}:{number}")
    assert not found, "use |moment, |iso, |minute or |clock (accounts.templatetags.moments)"
