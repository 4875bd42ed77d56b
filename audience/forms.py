from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from accounts.errors import ApplicationError
from accounts.validators import single_line_text

from .conditions import (
    FIELDS,
    NO_CONDITION,
    OPERATORS,
    PROPERTY_PREFIX,
    Condition,
    parse_condition,
)
from .importing import MAX_BYTES
from .models import Segment

PROPERTY_CHOICE = "property"
# The submit button that asks for one more condition row (works without JavaScript).
ADD_CONDITION = "add_condition"
CONDITION_FIELDS = ("field", "property_name", "operator", "value")


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, one header row with an “email” column; up to 20 MB, 200,000 rows and "
            "1,000,000 characters in a cell. Other columns become profile properties."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"required": _("Choose a CSV file to import.")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 20 MB. Split it and import the parts.")
            )
        return upload


def _operator_choices():
    labels = {"text": _("Text"), "number": _("Number"), "date": _("Date")}
    return [("", "—")] + [
        (labels[kind], [(value, label) for value, label in operators.items()])
        for kind, operators in OPERATORS.items()
    ]


class ConditionForm(forms.Form):
    field = forms.ChoiceField(
        label=_("Field"),
        required=False,
        choices=[
            ("", "—"),
            *[(name, label) for name, (_kind, label) in FIELDS.items()],
            (PROPERTY_CHOICE, _("Property…")),
        ],
    )
    property_name = forms.CharField(
        label=_("Property name"), required=False, max_length=50, validators=[single_line_text]
    )
    operator = forms.ChoiceField(label=_("Operator"), required=False, choices=_operator_choices)
    value = forms.CharField(
        label=_("Value"), required=False, max_length=200, validators=[single_line_text]
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data  # the field's own error says it
        if not any(data.get(name) for name in CONDITION_FIELDS):
            data["condition"] = None  # an empty row is ignored
            return data
        field = data.get("field", "")
        if field == PROPERTY_CHOICE:
            field = PROPERTY_PREFIX + data.get("property_name", "").strip()
        try:
            data["condition"] = parse_condition(
                {
                    "field": field,
                    "operator": data.get("operator", ""),
                    "value": data.get("value", ""),
                }
            )
        except ApplicationError as error:
            self.add_error(error.field, error.message)
        return data


class BaseConditionFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.conditions():
            raise forms.ValidationError(NO_CONDITION)

    def conditions(self) -> list[Condition]:
        """The parsed conditions of the valid, non-empty rows."""
        return [
            form.cleaned_data["condition"]
            for form in self.forms
            if form.is_valid()
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("condition")
        ]


ConditionFormSet = formset_factory(
    ConditionForm,
    formset=BaseConditionFormSet,
    extra=0,
    max_num=20,
    absolute_max=20,
    can_delete=True,
)


class SegmentEditForm(forms.Form):
    """A segment's name and match, and its conditions as a formset the form owns."""

    name = forms.CharField(label=_("Name"), max_length=100, validators=[single_line_text])
    match = forms.ChoiceField(
        label=_("Profiles match"),
        choices=Segment.Match.choices,
        initial=Segment.Match.ALL,
        widget=forms.RadioSelect,
    )

    def __init__(self, data=None, *, segment: Segment | None = None) -> None:
        # "Add a condition" shows the same form again, as typed, with one more empty row, and
        # validates nothing yet: an unbound form whose initial values are what was sent.
        self.adding = data is not None and ADD_CONDITION in data
        if self.adding:
            super().__init__(initial={"name": data.get("name", ""), "match": data.get("match")})
            self.conditions = ConditionFormSet(prefix="c", initial=[*_typed_rows(data), {}])
            return
        initial = {"name": segment.name, "match": segment.match} if segment else None
        super().__init__(data, initial=initial)
        stored = segment.conditions if segment else []
        self.conditions = ConditionFormSet(
            data, prefix="c", initial=None if data is not None else condition_initial(stored)
        )

    def is_valid(self) -> bool:
        conditions_valid = self.conditions.is_valid()  # both validated: every error shows
        return super().is_valid() and conditions_valid

    def parsed_conditions(self) -> list[Condition]:
        return self.conditions.conditions() if self.conditions.is_valid() else []

    def preview(self) -> dict:
        """What segment_preview takes from the form."""
        return {"conditions": self.parsed_conditions(), "match": self.cleaned_data["match"]}

    def segment(self) -> dict:
        """What segment_save takes from the form."""
        return {
            "name": self.cleaned_data["name"],
            "match": self.cleaned_data["match"],
            "conditions": self.parsed_conditions(),
        }

    @property
    def has_errors(self) -> bool:
        return self.is_bound and not self.is_valid()


def condition_initial(stored: list[dict]) -> list[dict]:
    rows = []
    for condition in stored:
        field = condition["field"]
        if field.startswith(PROPERTY_PREFIX):
            rows.append(
                {
                    **condition,
                    "field": PROPERTY_CHOICE,
                    "property_name": field[len(PROPERTY_PREFIX) :],
                }
            )
        else:
            rows.append(condition)
    return [*rows, {}]  # and one empty row to add a condition in


def _typed_rows(data) -> list[dict]:
    """The condition rows as sent, without the ones marked Remove or left empty."""
    try:
        total = min(int(data.get("c-TOTAL_FORMS", 0)), ConditionFormSet.absolute_max - 1)
    except ValueError:
        total = 0
    rows = []
    for n in range(total):
        row = {name: data.get(f"c-{n}-{name}", "") for name in CONDITION_FIELDS}
        if any(row.values()) and not data.get(f"c-{n}-DELETE"):
            rows.append(row)
    return rows
