import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from accounts.validators import multi_line_text, single_line_text

from . import rules
from .models import AccessRequest, Duration, RemoteAccessGrant, Scope, Team
from .periods import CUSTOM_DATE_REQUIRED, GRANT_PERIODS, custom_date_bounds, custom_date_error

NO_GRANT = ""
DURATION_REQUIRED = _("Choose how long support may have access.")
DURATION_INVALID = _("Choose one of the periods offered.")


class GrantPeriodForm(forms.Form):
    """A duration, and a last day when the duration is "Custom date"."""

    duration = forms.ChoiceField(
        label=_("Access for"),
        choices=GRANT_PERIODS,
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
    scope = forms.ChoiceField(
        label=_("What support may do"),
        choices=Scope.choices,
        initial=Scope.FULL,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": DURATION_INVALID},
    )
    current_grant = forms.IntegerField(required=False, widget=forms.HiddenInput)

    preselects_current = True

    def __init__(
        self,
        data=None,
        *args,
        account: Account,
        now: dt.datetime,
        current_grant: RemoteAccessGrant | None = None,
        **kwargs,
    ) -> None:
        """`current_grant` is the access the person sees while choosing; it travels with the
        form, so a change made meanwhile (another admin, a double submit) is noticed."""
        initial = {"current_grant": current_grant.pk if current_grant else None}
        if current_grant is not None and self.preselects_current:
            # "Change access to" starts from what is live, so Save alone changes nothing.
            initial["duration"] = current_grant.duration
            if current_grant.duration == Duration.CUSTOM:
                last_minute = current_grant.expires_at.astimezone(account.tzinfo)
                initial["last_day"] = (last_minute - dt.timedelta(minutes=1)).date()
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(data, *args, **kwargs)
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

    def grant_fields(self) -> dict:
        """What `access_grant` takes from this form."""
        return {
            "duration": self.cleaned_data["duration"],
            "last_day": self.cleaned_data["last_day"],
            "scope": self.cleaned_data["scope"] or Scope.FULL,
            "expected_current_grant_id": self.cleaned_data["current_grant"],
        }


class ContactSupportForm(GrantPeriodForm):
    team = forms.ChoiceField(label=_("Team"), choices=Team.choices, initial=Team.SUPPORT)
    subject = forms.CharField(label=_("Subject"), max_length=200, validators=[single_line_text])
    message = forms.CharField(
        label=_("Message"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        validators=[multi_line_text],
    )
    field_order = ["team", "subject", "message", "duration", "last_day", "scope"]
    # Writing to support does not change access unless the person picks a period.
    preselects_current = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        duration = self.fields["duration"]
        duration.label = _("Grant access")
        duration.required = False
        duration.choices = [
            (NO_GRANT, _("Don't grant")),
            *GRANT_PERIODS,
            (Duration.UNTIL_RESOLVED, Duration.UNTIL_RESOLVED.label),
        ]
        duration.initial = NO_GRANT

    @property
    def wants_grant(self) -> bool:
        return bool(self.data.get(self.add_prefix("duration")))

    def support_request_fields(self) -> dict:
        """What `support_request_create` takes from this form."""
        data = self.cleaned_data
        return {
            "team": data["team"],
            "subject": data["subject"],
            "message": data["message"],
            **(self.grant_fields() if data["duration"] else {}),
        }

    def with_current_grant(self, grant: RemoteAccessGrant | None) -> "ContactSupportForm":
        """The same form, everything typed kept, pointing at the access as it is now (after
        the grant changed under the person's feet)."""
        data = self.data.copy()
        data[self.add_prefix("current_grant")] = grant.pk if grant else ""
        form = type(self)(data, account=self.account, now=self.now)
        form.is_valid()
        return form


# The Security tab's "turn remote access off for good" link opens the contact form with these
# filled in from the query string; anything else in it is ignored.
PREFILLABLE = {"team": 20, "subject": 200, "message": 2_000}


def contact_prefill(query) -> dict:
    """Initial values for the contact form from `?team=…&subject=…&message=…`."""
    initial = {name: query[name][:limit] for name, limit in PREFILLABLE.items() if query.get(name)}
    if initial.get("team") not in Team.values:
        initial.pop("team", None)
    return initial


class ApproveAccessRequestForm(GrantPeriodForm):
    """Approve support's request: the period and scope it asked for, pre-filled, changeable.
    Prefixed with the request, so that several pending requests share one page."""

    def __init__(self, data=None, *args, access_request: AccessRequest, **kwargs) -> None:
        kwargs.setdefault("prefix", f"request-{access_request.pk}")
        super().__init__(data, *args, **kwargs)
        self.access_request = access_request
        self.initial.update(
            duration=access_request.duration,
            last_day=access_request.last_day,
            scope=access_request.scope,
        )


class DenyAccessRequestForm(forms.Form):
    """Deny support's request, with a reason they read. Prefixed with the request."""

    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        validators=[multi_line_text],
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Support reads it."),
    )

    def __init__(self, data=None, *args, access_request: AccessRequest, **kwargs) -> None:
        kwargs.setdefault("prefix", f"deny-{access_request.pk}")
        super().__init__(data, *args, **kwargs)
        self.access_request = access_request


class AccessRequestForm(GrantPeriodForm):
    """Support asking for access, from the account's page in admin."""

    ticket_reference = forms.CharField(
        label=_("Ticket reference"),
        max_length=100,
        validators=[single_line_text],
        help_text=_("The support ticket you need access for; the merchant sees it."),
        error_messages={"required": rules.REQUEST_TICKET_REQUIRED},
    )
    reason = forms.CharField(
        label=_("What you need to look at"),
        max_length=500,
        validators=[multi_line_text],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("At most 500 characters; Owners and Admins read it in the mail."),
        error_messages={"required": rules.REQUEST_REASON_REQUIRED},
    )
    field_order = ["ticket_reference", "reason", "duration", "last_day", "scope"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duration"].initial = Duration.SEVEN_DAYS
        del self.fields["current_grant"]

    def request_fields(self) -> dict:
        """What `access_request_create` takes from this form."""
        data = self.cleaned_data
        return {
            "ticket_reference": data["ticket_reference"],
            "reason": data["reason"],
            "duration": data["duration"],
            "last_day": data["last_day"],
            "scope": data["scope"] or Scope.FULL,
        }
