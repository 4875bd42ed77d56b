"""Two-factor sign-in with django-otp: an authenticator app (TOTP) plus one-time recovery codes."""

import base64

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.errors import ApplicationError
from outbox.services import outbox_enqueue
from outbox.subjects import subject_line

from ..actors import Actor
from ..authorization import require_capability
from ..models import Account, Membership, User
from ..roles import Capability
from .team import team_event_record

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "Authenticator app"

WRONG_CODE = gettext_lazy(
    "That code is not right. Check your authenticator app's clock and try again."
)
TOO_MANY_TRIES = gettext_lazy("Too many wrong codes. Wait a few seconds before trying again.")


def totp_key_new() -> str:
    """A fresh authenticator key (hex). It is kept in the signed-in session, not the
    database, until the first code proves the app has it: looking at the QR changes nothing."""
    return random_hex(20)


def totp_device_preview(*, user: User, key: str) -> TOTPDevice:
    """An unsaved device for the key being set up, to draw its QR code and show its secret."""
    return TOTPDevice(user=user, name=DEVICE_NAME, key=key, confirmed=False)


def totp_secret(device: TOTPDevice) -> str:
    """The key as people type it into an authenticator app (base32)."""
    return base64.b32encode(device.bin_key).decode()


def _clean(token: str) -> str:
    return "".join(token.split()).lower()


@transaction.atomic
def mfa_confirm(*, user: User, key: str, token: str) -> tuple[TOTPDevice, list[str]]:
    """Turn MFA on once the app shows a right code for `key`; returns the device and fresh
    recovery codes to show once."""
    device = totp_device_preview(user=user, key=key)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    token = _clean(token)
    if not token.isdigit() or not totp.verify(int(token), tolerance=device.tolerance):
        raise ApplicationError(WRONG_CODE, field="code")
    TOTPDevice.objects.filter(user=user).delete()
    device.confirmed = True
    device.last_t = totp.t()  # this code may not be used again to sign in
    device.save()
    return device, recovery_codes_renew(user=user)


def recovery_codes_renew(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


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


@transaction.atomic
def mfa_disable(*, user: User, token: str) -> None:
    mfa_match(user=user, token=token)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def user_has_mfa(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def mfa_reset_member(*, account: Account, actor: Actor, member_id: int) -> Membership:
    """Remove a member's MFA devices (lost phone); they set it up again at next sign-in if
    the account requires it."""
    require_capability(actor, account, Capability.RESET_MFA)
    membership = Membership.objects.select_related("user").get(account=account, pk=member_id)
    user = membership.user
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    team_event_record(
        account=account,
        actor=actor,
        summary=_("%(name)s reset two-factor sign-in of %(member)s")
        % {"name": actor.user.full_name, "member": user.full_name},
    )
    outbox_enqueue(
        kind="mfa_reset",
        to=[user.email],
        subject=subject_line(
            _("Your two-factor sign-in for %(vendor)s was reset"), vendor=settings.VENDOR_NAME
        ),
        text_body=_(
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
