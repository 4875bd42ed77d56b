import zoneinfo

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UsernameField
from django.template import loader
from django.utils.translation import gettext_lazy as _

from outbox.services import outbox_enqueue
from outbox.subjects import subject_line

from .models import Account, ApiScope, Currency
from .roles import Role
from .validators import single_line_text

TIMEZONE_CHOICES = [
    (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
]


class EmailAuthenticationForm(AuthenticationForm):
    username = UsernameField(
        widget=forms.TextInput(attrs={"autofocus": True}), validators=[single_line_text]
    )
    error_messages = {
        "invalid_login": _(
            "That email and password don't match an account. Check them and try again, "
            "or reset your password."
        ),
        "inactive": _("This account is inactive."),
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the mail is written to the outbox instead of sent inline: a
    mail server that is away delays the link, it does not lose it."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict,
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        html = (
            loader.render_to_string(html_email_template_name, context)
            if html_email_template_name
            else ""
        )
        outbox_enqueue(
            kind="password_reset",
            to=[to_email],
            subject=subject_line(loader.render_to_string(subject_template_name, context)),
            text_body=loader.render_to_string(email_template_name, context),
            html_body=html,
            confidential=True,
        )


class AccountSettingsForm(forms.Form):
    # A plain form, not a ModelForm: an invalid POST must not touch the account instance
    # that the rest of the page (sidebar, headings) is rendered from.
    name = forms.CharField(
        label=_("Account name"),
        max_length=100,
        validators=[single_line_text],
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
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=Currency.choices,
        required=False,  # left out (an older form, a script): the account keeps its own
        help_text=_("The currency of your store's amounts, such as a profile's total spent."),
    )

    @classmethod
    def for_account(cls, data, account: Account) -> "AccountSettingsForm":
        initial = {"name": account.name, "timezone": account.timezone, "currency": account.currency}
        return cls(data, initial=initial)


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        error_messages={"invalid": _("Enter an email address like jane@shop.com.")},
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        initial=Role.ANALYST,
        error_messages={"invalid_choice": _("Choose one of the roles offered.")},
    )

    def __init__(self, *args, may_make_owner: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_make_owner:
            self.fields["role"].choices = [c for c in Role.choices if c[0] != Role.OWNER]


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        error_messages={"invalid_choice": _("Choose one of the roles offered.")},
    )


class MFAPolicyForm(forms.Form):
    require_mfa = forms.BooleanField(
        label=_("Require two-factor sign-in for all members"), required=False
    )


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your full name"), max_length=150, validators=[single_line_text]
    )
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password

    def new_user_fields(self) -> dict[str, str]:
        """What `invitation_accept` takes to create the user; empty for someone signed in
        (the form is then unbound)."""
        if not self.is_bound:
            return {"full_name": "", "password": ""}
        return {
            "full_name": self.cleaned_data["full_name"],
            "password": self.cleaned_data["password"],
        }


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        validators=[single_line_text],
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("The 6-digit code from your authenticator app, or a recovery code."),
    )


class IdentityForm(forms.Form):
    """Proof that the person at the keyboard is the signed-in user: the password, a code from
    the authenticator app (or a recovery code), or either, as the caller asks. The fields are
    optional here; the service says which one was needed (mfa.identity_verify,
    mfa.mfa_setup_begin)."""

    def __init__(self, *args, password: bool = True, code: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if password:
            self.fields["password"] = forms.CharField(
                label=_("Your password"),
                required=False,
                strip=False,
                max_length=4096,
                widget=forms.PasswordInput(
                    attrs={"autocomplete": "current-password", "autofocus": True}
                ),
            )
        if code:
            self.fields["code"] = forms.CharField(
                label=_("Code from your authenticator app") if password else _("Current code"),
                required=False,
                max_length=32,
                widget=forms.TextInput(
                    attrs={"autocomplete": "one-time-code", "autofocus": not password}
                ),
                help_text=_("Or one of your recovery codes."),
            )

    def identity_fields(self) -> dict[str, str]:
        """What the services take: `password` and `token` (the code), empty when not asked."""
        return {
            "password": self.cleaned_data.get("password", ""),
            "token": self.cleaned_data.get("code", ""),
        }


class ApiKeyForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        validators=[single_line_text],
        help_text=_("Where the key is used, e.g. “Warehouse sync”."),
        error_messages={"required": _("Give the key a label so you can recognise it later.")},
    )
    scopes = forms.MultipleChoiceField(
        label=_("What the key may read"),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
