from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .compiled import CompiledQuery
from .models import Account, Invitation, Membership, TeamEvent, User
from .roles import Role


def memberships_for_request(
    *, user: User, account_id: int | None
) -> tuple[Membership | None, list[Membership]]:
    """The membership to act in (the one kept in the session, else the user's first) and all
    of the user's memberships for the account menu: one query per request for both."""
    # Loaded with the user when the session signed them in (accounts.backends.UserBackend).
    memberships = getattr(user, "loaded_memberships", None)
    if memberships is None:
        memberships = USER_MEMBERSHIPS(user_id=user.pk)
    chosen = next((m for m in memberships if m.account_id == account_id), None)
    return chosen or (memberships[0] if memberships else None), memberships


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("account")
        .order_by("account__name", "account_id")
    )


def _memberships_of(*, user_id: int) -> QuerySet[Membership]:
    return user_memberships(user=User(pk=user_id))


# Every signed-in request reads these: compiled once per process (accounts/compiled.py).
USER_MEMBERSHIPS = CompiledQuery(_memberships_of, user_id=-730_001)


def account_members(*, account: Account) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(account=account)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def owners_and_admins(*, account: Account) -> QuerySet[User]:
    """Owners and Admins: the people told about changes to the account's security."""
    return User.objects.filter(
        is_active=True, memberships__account=account, memberships__role__in=[Role.OWNER, Role.ADMIN]
    ).order_by("email")


def visit_mail_recipients(*, account: Account) -> list[str]:
    """The Owners and Admins who want a mail when support enters (`Membership.visit_mails`)."""
    return list(
        owners_and_admins(account=account)
        .filter(memberships__account=account, memberships__visit_mails=True)
        .values_list("email", flat=True)
    )


def owners_and_admins_emails(*, account_ids: list[int]) -> dict[int, list[str]]:
    """The emails of `owners_and_admins` for many accounts in one query (batch mail)."""
    emails: dict[int, list[str]] = {account_id: [] for account_id in account_ids}
    rows = (
        Membership.objects.filter(
            account_id__in=account_ids,
            role__in=[Role.OWNER, Role.ADMIN],
            user__is_active=True,
        )
        .order_by("user__email")
        .values_list("account_id", "user__email")
    )
    for account_id, email in rows:
        emails[account_id].append(email)
    return emails


def team_members(*, account: Account) -> QuerySet[Membership]:
    """Members with what the Team tab shows: name, email, role, MFA on/off, last sign-in."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return account_members(account=account).annotate(
        has_mfa=Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True))
    )


def pending_invitations(*, account: Account) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        account=account,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")


def team_history(*, account: Account, limit: int = 50) -> list[TeamEvent]:
    return list(TeamEvent.objects.filter(account=account).order_by("-created_at", "-id")[:limit])
