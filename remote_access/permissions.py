"""Permission classes for the admin-side remote-access views, in the style of Django REST
framework: `has_permission(request, account)` and a `message`, composable with `&`, `|`, `~`.

Every class implements its own check; none grants by default. `denial(request, account)`
returns the message of the first check that fails (None when all pass): that is what staff
read on the page.
"""

import time

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.middleware import AUTHENTICATED_AT
from accounts.models import Account

from . import rules
from .selectors import live_grant


class BasePermission:
    message: str = _("You may not do this.")

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        raise NotImplementedError(f"{type(self).__name__} must implement has_permission")

    def denial(self, request: HttpRequest, account: Account) -> str | None:
        return None if self.has_permission(request, account) else str(self.message)

    def __and__(self, other: "BasePermission") -> "BasePermission":
        return And(self, other)

    def __or__(self, other: "BasePermission") -> "BasePermission":
        return Or(self, other)

    def __invert__(self) -> "BasePermission":
        return Not(self)


class And(BasePermission):
    def __init__(self, left: BasePermission, right: BasePermission) -> None:
        self.left, self.right = left, right

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        return self.left.has_permission(request, account) and self.right.has_permission(
            request, account
        )

    def denial(self, request: HttpRequest, account: Account) -> str | None:
        return self.left.denial(request, account) or self.right.denial(request, account)


class Or(BasePermission):
    def __init__(self, left: BasePermission, right: BasePermission) -> None:
        self.left, self.right = left, right

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        return self.left.has_permission(request, account) or self.right.has_permission(
            request, account
        )

    def denial(self, request: HttpRequest, account: Account) -> str | None:
        left = self.left.denial(request, account)
        if left is None:
            return None
        # Both failed: the right-hand reason is the one that was tried last.
        return self.right.denial(request, account)


class Not(BasePermission):
    def __init__(self, inner: BasePermission) -> None:
        self.inner = inner
        self.message = getattr(inner, "negated_message", _("This is not allowed here."))

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        return not self.inner.has_permission(request, account)


class IsActiveStaff(BasePermission):
    """The user is signed in, active, and vendor staff."""

    message = rules.ONLY_ACTIVE_STAFF

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        return rules.is_active_staff(request.user)


class CanEnterAccounts(BasePermission):
    """The staff user holds remote_access.enter_account (directly or through a team)."""

    message = rules.CANNOT_ENTER

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        return rules.staff_may_enter(request.user)


class CanDisableRemoteAccess(BasePermission):
    """The staff user holds remote_access.disable_remote_access."""

    message = rules.CANNOT_TURN_OFF

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        return rules.staff_may_turn_off(request.user)


class SignedInWithTwoFactor(BasePermission):
    """Staff proved this sign-in with a two-factor code (django-otp marks it verified)."""

    message = rules.NEEDS_TWO_FACTOR

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        is_verified = getattr(request.user, "is_verified", None)
        return bool(is_verified and is_verified())


class RemoteAccessEnabled(BasePermission):
    """The merchant has not asked for remote access to be turned off."""

    message = rules.TURNED_OFF_FOR_STAFF
    negated_message = rules.ALREADY_ON

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        return not account.remote_access_disabled


class HasLiveGrant(BasePermission):
    """The account has a grant that is live right now (the one liveness rule)."""

    message = rules.NO_LIVE_GRANT
    negated_message = rules.ALREADY_LIVE

    def has_permission(self, request: HttpRequest, account: Account) -> bool:
        return live_grant(account=account) is not None


class SignedInRecently(BasePermission):
    """The staff user proved who they are (password, two-factor) within STAFF_REAUTH_AFTER.
    Not a refusal on its own: entering asks for the password again when this fails."""

    @property
    def message(self) -> str:
        return rules.password_again()

    def has_permission(self, request: HttpRequest, account: Account | None) -> bool:
        signed_in_at = request.session.get(AUTHENTICATED_AT, 0)
        return time.time() - signed_in_at <= settings.STAFF_REAUTH_AFTER.total_seconds()


ENTER_ACCOUNT = (
    IsActiveStaff()
    & CanEnterAccounts()
    & SignedInWithTwoFactor()
    & RemoteAccessEnabled()
    & HasLiveGrant()
)
DISABLE_REMOTE_ACCESS = IsActiveStaff() & CanDisableRemoteAccess() & RemoteAccessEnabled()
ENABLE_REMOTE_ACCESS = IsActiveStaff() & CanDisableRemoteAccess() & ~RemoteAccessEnabled()
ASK_FOR_ACCESS = IsActiveStaff() & CanEnterAccounts() & RemoteAccessEnabled() & ~HasLiveGrant()
SEE_REMOTE_ACCESS = IsActiveStaff() & (CanEnterAccounts() | CanDisableRemoteAccess())
