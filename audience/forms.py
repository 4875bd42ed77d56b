from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from .conditions import FIELDS, OPERATORS, PROPERTY_PREFIX, ConditionError, parse_condition
from .importing import MAX_BYTES
from .models import Segment

PROPERTY_CHOICE = "property"
CONDITION_ROWS = 5


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, one header row with an “email” column; up to 20 MB and 200,000 rows. "
            "Other columns become profile properties."
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


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    match = forms.ChoiceField(
        label=_("Profiles match"),
        choices=Segment.Match.choices,
        initial=Segment.Match.ALL,
        widget=forms.RadioSelect,
    )


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
    property_name = forms.CharField(label=_("Property name"), required=False, max_length=50)
    operator = forms.ChoiceField(label=_("Operator"), required=False, choices=_operator_choices)
    value = forms.CharField(label=_("Value"), required=False, max_length=200)

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in ("field", "property_name", "operator", "value")):
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
        except ConditionError as error:
            raise forms.ValidationError(str(error)) from None
        return data


ConditionFormSet = formset_factory(ConditionForm, extra=0, max_num=20, absolute_max=20)


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
    return rows + [{}] * max(0, CONDITION_ROWS - len(rows))
