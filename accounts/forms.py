import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

TIMEZONE_CHOICES = [
    (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
]


class EmailAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "That email and password don't match an account. Check them and try again, "
            "or reset your password."
        ),
        "inactive": _("This account is inactive."),
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class AccountSettingsForm(forms.Form):
    # A plain form, not a ModelForm: an invalid POST must not touch the account instance
    # that the rest of the page (sidebar, headings) is rendered from.
    name = forms.CharField(
        label=_("Account name"),
        max_length=100,
        error_messages={"required": _("Give the account a name.")},
    )
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=TIMEZONE_CHOICES,
        help_text=_("Dates such as when support access ends are shown and counted in this zone."),
        error_messages={
            "invalid_choice": _("“%(value)s” is not a time zone name such as Europe/Paris."),
        },
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the account a name."), code="required")
        return name
