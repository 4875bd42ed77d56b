"""Two-factor sign-in with django-otp: an authenticator app (TOTP) plus one-time recovery codes.

Every change to a person's second factor needs the current one (security review, finding 2):
replacing or removing the app, or renewing the recovery codes, takes a current app code or a
recovery code, entered in the request that asks; setting it up for the first time takes the
password. Every change mails the person (`security_mail_send`).
"""

import base64

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.errors import ApplicationError
from outbox.services import outbox_enqueue

from ..actors import Actor
from ..authorization import require_capability
from ..models import Account, Membership, User
from ..ratelimit import attempts, record_attempt, reset_attempts
from ..roles import Capability, Role
from .team import team_event_record

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "Authenticator app"
# Between proving who one is and typing the first code of the new app.
SETUP_SECONDS = 10 * 60
_SETUP_SALT = "accounts.mfa.setup"
# Wrong passwords typed while already signed in (sudo prompt, two-factor setup, signing out
# other sessions): a stolen session must not become a password-guessing machine.
PASSWORD_FAILURE_LIMIT = 5
PASSWORD_LOCKOUT_SECONDS = 15 * 60

WRONG_CODE = gettext_lazy(
    "That code is not right. Check your authenticator app's clock and try again."
)
TOO_MANY_TRIES = gettext_lazy("Too many wrong codes. Wait a few seconds before trying again.")
WRONG_PASSWORD = gettext_lazy("That is not your password.")
TOO_MANY_PASSWORDS = format_lazy(
    gettext_lazy(
        "Too many wrong passwords. Wait {minutes} minutes and try again, "
        "or sign out and reset your password."
    ),
    minutes=PASSWORD_LOCKOUT_SECONDS // 60,
)
PASSWORD_OR_CODE_NEEDED = gettext_lazy("Enter your password or a code from your authenticator app.")
PASSWORD_NEEDED = gettext_lazy("Enter your password.")
CODE_NEEDED = gettext_lazy("Enter a code from your authenticator app, or a recovery code.")
SETUP_EXPIRED = gettext_lazy(
    "This setup waited too long or was started elsewhere. Start again: confirm it's you, "
    "then scan the new code."
)
ONLY_OWNERS_RESET_OWNERS = gettext_lazy(
    "Only an Owner can reset an Owner's two-factor sign-in. Ask another Owner to do it."
)


# --- mail: the one place a change to someone's own sign-in is told to them -----------------


def security_mail_send(*, user: User, kind: str, subject: str, message: str) -> None:
    """Mail `user` about a change to their own sign-in: an outbox row written in the
    caller's transaction, so the mail exists exactly when the change does. `subject` is
    built from constants and the vendor's name only, never from text a person typed."""
    outbox_enqueue(kind=kind, to=[user.email], subject=subject, text_body=message)


def _notify(user: User, change: str) -> None:
    subject, message = SIGN_IN_CHANGE_MAIL[change]
    vendor = {"vendor": settings.VENDOR_NAME}
    footer = _("If this was not you, reset your password now and tell your account's Owner.")
    security_mail_send(
        user=user,
        kind=f"sign_in_{change}",
        subject=str(subject) % vendor,
        message=f"{message % vendor}\n\n{footer}\n",
    )


SIGN_IN_CHANGE_MAIL = {
    "on": (
        gettext_lazy("Two-factor sign-in is on for your %(vendor)s account"),
        gettext_lazy("You turned on two-factor sign-in with an authenticator app."),
    ),
    "replaced": (
        gettext_lazy("Your %(vendor)s authenticator app was replaced"),
        gettext_lazy(
            "You set up a new authenticator app for two-factor sign-in. The old app and "
            "your old recovery codes no longer work."
        ),
    ),
    "off": (
        gettext_lazy("Two-factor sign-in is off for your %(vendor)s account"),
        gettext_lazy(
            "You turned off two-factor sign-in. Your password alone now signs you in; "
            "turn it back on from your profile."
        ),
    ),
    "recovery_codes": (
        gettext_lazy("New recovery codes for your %(vendor)s account"),
        gettext_lazy("You made new recovery codes. The old ones no longer work."),
    ),
    "other_sessions_ended": (
        gettext_lazy("You were signed out of your other %(vendor)s sessions"),
        gettext_lazy(
            "You signed out of every other browser and device. Only the session you used "
            "for this is still signed in."
        ),
    ),
}


# --- proving who one is ----------------------------------------------------------------------


def _clean(token: str) -> str:
    return "".join(token.split()).lower()


def confirmed_devices(*, user: User) -> list:
    return [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]


def mfa_match(*, user: User, token: str):
    """The device that accepts this code (an app code or a recovery code), else ApplicationError.

    django-otp refuses a TOTP code already used (replay) and slows down repeated failures.
    """
    token = _clean(token)
    devices = confirmed_devices(user=user)
    throttled = False
    for device in devices:
        allowed, _data = device.verify_is_allowed()
        if not allowed:
            throttled = True
            continue
        if device.verify_token(token):
            return device
    raise ApplicationError(TOO_MANY_TRIES if throttled else WRONG_CODE, field="code")


def password_check(*, user: User, password: str) -> None:
    """Refuse a wrong password, and every password after PASSWORD_FAILURE_LIMIT wrong ones."""
    ident = str(user.pk)
    if attempts("reauth-password", ident) >= PASSWORD_FAILURE_LIMIT:
        raise ApplicationError(TOO_MANY_PASSWORDS, field="password")
    if not user.check_password(password):
        record_attempt("reauth-password", ident, window=PASSWORD_LOCKOUT_SECONDS)
        raise ApplicationError(WRONG_PASSWORD, field="password")
    reset_attempts("reauth-password", ident)


def identity_verify(*, user: User, password: str = "", token: str = "") -> None:
    """The person at the keyboard is `user`: their password, or a current code (app or
    recovery). For sudo mode and signing out other sessions."""
    if password:
        password_check(user=user, password=password)
    elif token and user_has_mfa(user=user):
        mfa_match(user=user, token=token)
    else:
        raise ApplicationError(PASSWORD_OR_CODE_NEEDED)


def user_has_mfa(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- setting up, replacing, removing ----------------------------------------------------------


def totp_secret(device: TOTPDevice) -> str:
    """The key as people type it into an authenticator app (base32)."""
    return base64.b32encode(device.bin_key).decode()


def totp_device_preview(*, user: User, key: str) -> TOTPDevice:
    """An unsaved device for the key being set up, to draw its QR code and show its secret."""
    return TOTPDevice(user=user, name=DEVICE_NAME, key=key, confirmed=False)


def mfa_setup_begin(*, user: User, password: str = "", token: str = "") -> str:
    """Start setting up (or replacing) the authenticator app, once the person proved who they
    are here: with two-factor on, a current code or a recovery code (the password is not
    enough: it is the factor being protected); without it, the password. Returns a setup
    ticket: signed, tied to the user, valid SETUP_SECONDS, holding the new key. No secret is
    made before that proof."""
    if user_has_mfa(user=user):
        if not token:
            raise ApplicationError(CODE_NEEDED, field="code")
        mfa_match(user=user, token=token)
    else:
        if not password:
            raise ApplicationError(PASSWORD_NEEDED, field="password")
        password_check(user=user, password=password)
    return signing.dumps({"user": user.pk, "key": random_hex(20)}, salt=_SETUP_SALT)


def mfa_setup_key(*, user: User, ticket: str | None) -> str | None:
    """The new key a setup ticket holds, or None when it is missing, stale or someone else's."""
    if not ticket:
        return None
    try:
        data = signing.loads(ticket, salt=_SETUP_SALT, max_age=SETUP_SECONDS)
    except signing.BadSignature:
        return None
    return data["key"] if data.get("user") == user.pk else None


@transaction.atomic
def mfa_confirm(*, user: User, ticket: str, token: str) -> tuple[TOTPDevice, list[str]]:
    """Turn two-factor on (or replace the app) once the new app shows a right code for the
    ticket's key; returns the device and fresh recovery codes to show once."""
    key = mfa_setup_key(user=user, ticket=ticket)
    if key is None:
        raise ApplicationError(SETUP_EXPIRED)
    device = totp_device_preview(user=user, key=key)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    token = _clean(token)
    if not token.isdigit() or not totp.verify(int(token), tolerance=device.tolerance):
        raise ApplicationError(WRONG_CODE, field="code")
    replaced = TOTPDevice.objects.filter(user=user).delete()[0] > 0
    device.confirmed = True
    device.last_t = totp.t()  # this code may not be used again to sign in
    device.save()
    codes = _recovery_codes_new(user=user)
    _notify(user, "replaced" if replaced else "on")
    return device, codes


def _recovery_codes_new(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


# The code is checked before the transaction opens: django-otp writes a wrong code's throttle
# count to the device, and a rollback must not erase it.


def recovery_codes_renew(*, user: User, token: str) -> list[str]:
    """New recovery codes (the old ones stop working), for a current code."""
    mfa_match(user=user, token=token)
    with transaction.atomic():
        codes = _recovery_codes_new(user=user)
        _notify(user, "recovery_codes")
    return codes


def mfa_disable(*, user: User, token: str) -> None:
    mfa_match(user=user, token=token)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _notify(user, "off")


# --- sessions --------------------------------------------------------------------------------


def user_sessions_end_others(*, user: User, password: str = "", token: str = "") -> User:
    """Sign `user` out of every session, for their password or a current code; the caller
    keeps its own session with `update_session_auth_hash` on the returned (fresh) user.

    Raising `session_generation` changes the session auth hash (User._get_session_auth_hash):
    Django then drops every other session at its next request, whatever the session backend,
    without reading a single session row."""
    identity_verify(user=user, password=password, token=token)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.session_generation += 1
        locked.save(update_fields=["session_generation"])
        _notify(locked, "other_sessions_ended")
    return locked


# --- an Owner or Admin resetting a member's two-factor ---------------------------------------


def mfa_reset_allowed(*, actor: Actor, membership: Membership) -> bool:
    """Only Owners reset an Owner's two-factor, as only Owners change or remove Owners."""
    if membership.role == Role.OWNER:
        return actor.can(Capability.TRANSFER_OWNERSHIP)
    return True


@transaction.atomic
def mfa_reset_member(*, account: Account, actor: Actor, member_id: int) -> Membership:
    """Remove a member's MFA devices (lost phone); they set it up again at next sign-in if
    the account requires it."""
    require_capability(actor, account, Capability.RESET_MFA)
    membership = Membership.objects.select_related("user").get(account=account, pk=member_id)
    if not mfa_reset_allowed(actor=actor, membership=membership):
        raise ApplicationError(ONLY_OWNERS_RESET_OWNERS)
    user = membership.user
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    team_event_record(
        account=account,
        actor=actor,
        summary=_("%(name)s reset two-factor sign-in of %(member)s")
        % {"name": actor.user.full_name, "member": user.full_name},
    )
    security_mail_send(
        user=user,
        kind="mfa_reset",
        subject=_("Your two-factor sign-in for %(vendor)s was reset")
        % {"vendor": settings.VENDOR_NAME},
        message=_(
            "%(name)s, an Owner or Admin of %(account)s, reset your two-factor sign-in.\n"
            "Your authenticator app and recovery codes no longer work. "
            "%(next_step)s\n\nIf you did not ask for this, tell %(account)s's Owner."
        )
        % {
            "name": actor.user.full_name,
            "account": account.name,
            "next_step": _("You will set it up again the next time you sign in.")
            if account.require_mfa
            else _("You can set it up again from your profile."),
        },
    )
    return membership
