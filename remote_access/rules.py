"""Each staff-side remote-access rule in one place: the predicate and the words staff read.

The permission classes (permissions.py) are the first guard of the admin views; the services
(services/) check the same predicates again and raise the same words, so no caller can
forget a rule and no rule is worded twice (DESIGN §5.11).
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User

ENTER_PERMISSION = ("remote_access", "enter_account")
DISABLE_PERMISSION = ("remote_access", "disable_remote_access")

ONLY_ACTIVE_STAFF = _("Only active staff can do this.")
CANNOT_ENTER = _("You don't have the permission to enter merchant accounts. Ask your team lead.")
CANNOT_TURN_OFF = _(
    "Only customer success managers can turn remote access off or on for an account."
)
NEEDS_TWO_FACTOR = _(
    "Entering accounts needs two-factor sign-in: turn it on in your profile, then sign "
    "out and in again with a code."
)
TURNED_OFF_FOR_STAFF = _("Remote access is turned off for this account at the merchant's request.")
ALREADY_ON = _("Remote access is already on for this account.")
NO_LIVE_GRANT = _(
    "The merchant has not granted access, or it has ended. Send them the /grant-access link."
)
TICKET_REQUIRED = _("Give the ticket this visit is for.")
REQUEST_TICKET_REQUIRED = _("Give the ticket you need access for; the merchant sees it.")
REQUEST_REASON_REQUIRED = _(
    "Say what you need to look at, in words the merchant understands (at most 500 characters)."
)
ALREADY_LIVE = _("Access is already live: enter the account instead of asking for it.")
CANNOT_RESOLVE = _(
    "Only staff who may enter merchant accounts can resolve or reopen support requests."
)
REASON_REQUIRED = _("Say why remote access is being turned off; the merchant will read it.")


def permission_name(app_and_codename: tuple[str, str]) -> str:
    return ".".join(app_and_codename)


def is_active_staff(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def staff_may_enter(user: User) -> bool:
    """Active staff holding remote_access.enter_account (directly or through a team)."""
    return is_active_staff(user) and user.has_perm(permission_name(ENTER_PERMISSION))


def staff_may_turn_off(user: User) -> bool:
    """Active staff holding remote_access.disable_remote_access (customer success managers)."""
    return is_active_staff(user) and user.has_perm(permission_name(DISABLE_PERMISSION))


def password_again() -> str:
    """Why entering asks for the password again (STAFF_REAUTH_AFTER, a setting)."""
    minutes = int(settings.STAFF_REAUTH_AFTER.total_seconds() // 60)
    return ngettext(
        "You signed in more than %(minutes)d minute ago; confirm it is you.",
        "You signed in more than %(minutes)d minutes ago; confirm it is you.",
        minutes,
    ) % {"minutes": minutes}
