"""Segment conditions: what may be asked of a profile, checked before it reaches SQL.

A condition is {"field", "operator", "value"} where field is a profile field or
"properties.<name>". Text comparisons ignore case. Everything becomes one Q object, so a
segment's count is a single SQL COUNT and no profile is loaded into Python.
"""

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

from django.db.models import F, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact, IContains, IExact, IsNull, IStartsWith
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import ApplicationError

TEXT, NUMBER, DATE = "text", "number", "date"

FIELDS = {
    "email": (TEXT, gettext_lazy("Email")),
    "first_name": (TEXT, gettext_lazy("First name")),
    "last_name": (TEXT, gettext_lazy("Last name")),
    "country": (TEXT, gettext_lazy("Country")),
    "total_spent": (NUMBER, gettext_lazy("Total spent")),
    "created_at": (DATE, gettext_lazy("Created")),
}
PROPERTY_PREFIX = "properties."
# Letters, digits, _, - and space. Never "__": the ORM would read foo__gt as a lookup.
PROPERTY_NAME = re.compile(r"^[A-Za-z0-9_\- ]{1,50}$")
PROPERTY_NAME_RULE = gettext_lazy(
    "A property name uses letters, digits, _, - and spaces (not two _ in a row), "
    "up to 50 characters."
)
NO_CONDITION = gettext_lazy("Add at least one condition.")

OPERATORS = {
    TEXT: {
        "equals": gettext_lazy("is"),
        "not_equals": gettext_lazy("is not"),
        "contains": gettext_lazy("contains"),
        "starts_with": gettext_lazy("starts with"),
        "is_set": gettext_lazy("is set"),
        "is_not_set": gettext_lazy("is not set"),
    },
    NUMBER: {
        "eq": "=",
        "ne": "≠",
        "gt": ">",
        "gte": "≥",
        "lt": "<",
        "lte": "≤",
    },
    DATE: {
        "before": gettext_lazy("before"),
        "on": gettext_lazy("on"),
        "after": gettext_lazy("after"),
    },
}
NO_VALUE = {"is_set", "is_not_set"}
MAX_CONDITIONS = 20


# The dates a condition may name: wide enough for any real sign-up date, narrow enough that
# "the day after" and the time-zone arithmetic never leave the calendar (9999-12-31 did).
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)
# total_spent is numeric(12, 2): a value is rounded to cents and must fit.
LARGEST_AMOUNT = Decimal("9999999999.99")


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: str | Decimal | dt.date | None

    @property
    def kind(self) -> str:
        return field_kind(self.field)

    @property
    def property_name(self) -> str | None:
        return (
            self.field[len(PROPERTY_PREFIX) :] if self.field.startswith(PROPERTY_PREFIX) else None
        )


def field_kind(field: str) -> str:
    if field.startswith(PROPERTY_PREFIX):
        return TEXT
    return FIELDS[field][0]


def field_label(field: str) -> str:
    if field.startswith(PROPERTY_PREFIX):
        return _("property “%(name)s”") % {"name": field[len(PROPERTY_PREFIX) :]}
    return str(FIELDS[field][1])


def _check_field(field: str) -> None:
    if field.startswith(PROPERTY_PREFIX):
        name = field[len(PROPERTY_PREFIX) :]
        if not PROPERTY_NAME.match(name) or "__" in name:
            raise ApplicationError(PROPERTY_NAME_RULE, field="property_name")
    elif field not in FIELDS:
        raise ApplicationError(
            _("“%(field)s” is not a field profiles have.") % {"field": field[:50]}, field="field"
        )


def _number(value: str, field: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ApplicationError(
            _("“%(value)s” is not a number; %(field)s needs one, like 100 or 49.90.")
            % {"value": value[:50], "field": field_label(field)},
            field="value",
        )
    if abs(number) > LARGEST_AMOUNT:
        raise ApplicationError(
            _("%(field)s is at most 9,999,999,999.99.") % {"field": field_label(field)},
            field="value",
        )
    with localcontext() as context:
        context.prec = 30
        return number.quantize(Decimal("0.01"))


def _date(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ApplicationError(
            _("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": value[:50]},
            field="value",
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ApplicationError(
            _("Choose a date between %(first)s and %(last)s.")
            % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            field="value",
        )
    return day


def parse_condition(raw: dict) -> Condition:
    """A condition from what was typed or stored; ApplicationError (with the form field to
    show it on) when it cannot be asked of a profile."""
    field = str(raw.get("field", "")).strip()
    operator = str(raw.get("operator", "")).strip()
    value = str(raw.get("value", "")).strip()
    _check_field(field)
    kind = field_kind(field)
    if operator not in OPERATORS[kind]:
        raise ApplicationError(
            _("“%(operator)s” does not apply to %(field)s.")
            % {"operator": operator[:50], "field": field_label(field)},
            field="operator",
        )
    if operator in NO_VALUE:
        return Condition(field, operator, None)
    if value == "":
        raise ApplicationError(
            _("Give a value for %(field)s.") % {"field": field_label(field)}, field="value"
        )
    if kind == NUMBER:
        return Condition(field, operator, _number(value, field))
    if kind == DATE:
        return Condition(field, operator, _date(value))
    if len(value) > 200:
        raise ApplicationError(_("A value is at most 200 characters."), field="value")
    return Condition(field, operator, value)


def parse_conditions(raw_conditions: list[dict]) -> list[Condition]:
    if not raw_conditions:
        raise ApplicationError(NO_CONDITION)
    if len(raw_conditions) > MAX_CONDITIONS:
        raise ApplicationError(_("A segment has at most 20 conditions."))
    return [parse_condition(raw) for raw in raw_conditions]


def _day_bounds(day: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz)
    return start, end


TEXT_LOOKUPS = {
    "equals": IExact,
    "not_equals": IExact,
    "contains": IContains,
    "starts_with": IStartsWith,
}


def condition_q(condition: Condition, *, tz: zoneinfo.ZoneInfo) -> Q:
    op, value = condition.operator, condition.value
    name = condition.property_name
    if name is not None:
        # The key as an expression, never spelled into a lookup string, so no property name
        # can be read as a lookup. A property is set when it has a non-empty value.
        column = KeyTextTransform(name, "properties")
        present = Q(IsNull(column, False)) & ~Q(Exact(column, ""))
    else:
        column, present = F(condition.field), ~Q(**{condition.field: ""})
    if condition.kind == TEXT:
        if op == "is_set":
            return present
        if op == "is_not_set":
            return ~present
        matches = Q(TEXT_LOOKUPS[op](column, value))
        if op == "not_equals":
            # A profile without the property is "not" anything; SQL NULL would say unknown.
            return ~matches | ~present if name is not None else ~matches
        return matches & present if name is not None else matches
    if condition.kind == NUMBER:
        if op == "ne":
            return ~Q(**{condition.field: value})
        lookup = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}[op]
        return Q(**{f"{condition.field}__{lookup}": value})
    start, end = _day_bounds(value, tz)
    if op == "before":
        return Q(created_at__lt=start)
    if op == "after":
        return Q(created_at__gte=end)
    return Q(created_at__gte=start, created_at__lt=end)


def conditions_q(conditions: list[Condition], *, match: str, tz: zoneinfo.ZoneInfo) -> Q:
    combined = Q()
    for condition in conditions:
        q = condition_q(condition, tz=tz)
        combined = (combined & q) if match == "all" else (combined | q)
    return combined
