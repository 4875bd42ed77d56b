import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account

from .models import Duration, Team
from .periods import CUSTOM_DATE_REQUIRED, custom_date_bounds, custom_date_error

NO_GRANT = ""
DURATION_REQUIRED = _("Choose how long support may have access.")
DURATION_INVALID = _("Choose one of the periods offered.")


class GrantPeriodForm(forms.Form):
    """A duration, and a last day when the duration is "Custom date"."""

    duration = forms.ChoiceField(
        label=_("Access for"),
        choices=Duration.choices,
        widget=forms.RadioSelect,
        error_messages={"required": DURATION_REQUIRED, "invalid_choice": DURATION_INVALID},
    )
    last_day = forms.DateField(
        label=_("Last day of access"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Access lasts through the end of this day, in the account's time zone."),
        error_messages={
            "invalid": _("Enter the date as YYYY-MM-DD, or pick it from the calendar.")
        },
    )
    current_grant = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, account: Account, now: dt.datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.now = now
        earliest, latest = custom_date_bounds(account=account, now=now)
        self.fields["last_day"].widget.attrs.update(
            min=earliest.isoformat(), max=latest.isoformat()
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("duration") == Duration.CUSTOM and "last_day" not in self.errors:
            last_day = cleaned.get("last_day")
            if last_day is None:
                self.add_error("last_day", CUSTOM_DATE_REQUIRED)
            else:
                error = custom_date_error(account=self.account, now=self.now, last_day=last_day)
                if error:
                    self.add_error("last_day", error)
        return cleaned


class ContactSupportForm(GrantPeriodForm):
    team = forms.ChoiceField(label=_("Team"), choices=Team.choices, initial=Team.SUPPORT)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(
        label=_("Message"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 8})
    )
    field_order = ["team", "subject", "message", "duration", "last_day"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        duration = self.fields["duration"]
        duration.label = _("Grant access")
        duration.required = False
        duration.choices = [(NO_GRANT, _("Don't grant")), *Duration.choices]
        duration.initial = NO_GRANT

    @property
    def wants_grant(self) -> bool:
        return bool(self.data.get(self.add_prefix("duration")))
