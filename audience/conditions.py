"""Segment conditions: what may be asked of a profile, checked before it reaches SQL.

A condition is {"field", "operator", "value"} where field is a profile field or
"properties.<name>". Text comparisons ignore case. Everything becomes one Q object, so a
segment's count is a single SQL COUNT and no profile is loaded into Python.
"""

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
PROPERTY_NAME = re.compile(r"^[A-Za-z0-9_]{1,50}$")

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


class ConditionError(ValueError):
    pass


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


def parse_condition(raw: dict) -> Condition:
    field = str(raw.get("field", "")).strip()
    operator = str(raw.get("operator", "")).strip()
    value = str(raw.get("value", "")).strip()
    if field.startswith(PROPERTY_PREFIX):
        if not PROPERTY_NAME.match(field[len(PROPERTY_PREFIX) :]):
            raise ConditionError(
                _("A property name uses letters, digits and _ only, up to 50 characters.")
            )
    elif field not in FIELDS:
        raise ConditionError(_("“%(field)s” is not a field profiles have.") % {"field": field})
    kind = field_kind(field)
    if operator not in OPERATORS[kind]:
        raise ConditionError(
            _("“%(operator)s” does not apply to %(field)s.")
            % {"operator": operator, "field": field_label(field)}
        )
    if operator in NO_VALUE:
        return Condition(field, operator, None)
    if value == "":
        raise ConditionError(_("Give a value for %(field)s.") % {"field": field_label(field)})
    if kind == NUMBER:
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) >= Decimal("1e10"):
            raise ConditionError(
                _("“%(value)s” is not a number; %(field)s needs one, like 100 or 49.90.")
                % {"value": value, "field": field_label(field)}
            )
        return Condition(field, operator, number)
    if kind == DATE:
        try:
            return Condition(field, operator, dt.date.fromisoformat(value))
        except ValueError:
            raise ConditionError(
                _("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": value}
            ) from None
    if len(value) > 200:
        raise ConditionError(_("A value is at most 200 characters."))
    return Condition(field, operator, value)


def parse_conditions(raw_conditions: list[dict]) -> list[Condition]:
    if not raw_conditions:
        raise ConditionError(_("Add at least one condition."))
    if len(raw_conditions) > MAX_CONDITIONS:
        raise ConditionError(_("A segment has at most 20 conditions."))
    return [parse_condition(raw) for raw in raw_conditions]


def _day_bounds(day: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz)
    return start, end


def condition_q(condition: Condition, *, tz: zoneinfo.ZoneInfo) -> Q:
    op, value = condition.operator, condition.value
    name = condition.property_name
    if name is not None:
        # A property is set when the key exists with a non-empty value, like any text field.
        column = f"properties__{name}"
        present = Q(properties__has_key=name) & ~Q(**{column: ""})
    else:
        column, present = condition.field, ~Q(**{condition.field: ""})
    if condition.kind == TEXT:
        if op == "is_set":
            return present
        if op == "is_not_set":
            return ~present
        lookup = {
            "equals": "iexact",
            "not_equals": "iexact",
            "contains": "icontains",
            "starts_with": "istartswith",
        }[op]
        matches = Q(**{f"{column}__{lookup}": value})
        if op == "not_equals":
            # A profile without the property is "not" anything; SQL NULL would say unknown.
            return ~matches | ~present if name is not None else ~matches
        return matches & present if name is not None else matches
    if condition.kind == NUMBER:
        if op == "ne":
            return ~Q(**{column: value})
        lookup = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}[op]
        return Q(**{f"{column}__{lookup}": value})
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
