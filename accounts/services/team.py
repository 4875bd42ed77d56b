"""Changing the team: invitations, roles, removals. Each change writes a TeamEvent."""

import datetime as dt
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import ApplicationError
from outbox.services import outbox_enqueue
from outbox.subjects import subject_line

from ..actors import Actor
from ..authorization import require_capability
from ..crypto import token_hash
from ..models import INVITATION_LIFETIME_DAYS, Account, Invitation, Membership, TeamEvent, User
from ..roles import Capability, Role

ALREADY_MEMBER = gettext_lazy("%(email)s is already a member of this account.")
ALREADY_INVITED = gettext_lazy(
    "%(email)s already has a pending invitation. Revoke it to send a new one."
)
ONLY_OWNERS_MANAGE_OWNERS = gettext_lazy(
    "Only an Owner can make someone an Owner or change an Owner."
)
LAST_OWNER = gettext_lazy("An account needs at least one Owner. Make someone else Owner first.")
INVITATION_UNUSABLE = gettext_lazy(
    "This invitation link no longer works: it was used, revoked or has expired. "
    "Ask whoever invited you to send a new one."
)
INVITATION_OTHER_EMAIL = gettext_lazy(
    "This invitation is for %(email)s, but you are signed in as someone else. "
    "Sign out, then open the link again."
)


def team_event_record(*, account: Account, actor: Actor | None, summary: str) -> TeamEvent:
    return TeamEvent.objects.create(
        account=account,
        actor=actor.user if actor else None,
        actor_description=actor.description if actor else "",
        summary=summary[:500],
    )


def _may_touch_owners(actor: Actor) -> bool:
    return actor.can(Capability.TRANSFER_OWNERSHIP)


@transaction.atomic
def invitation_create(*, account: Account, actor: Actor, email: str, role: str) -> str:
    """Invite someone by email; returns the token (mailed, never stored in clear)."""
    require_capability(actor, account, Capability.MANAGE_USERS)
    email = User.objects.normalize_email(email).lower()
    if role == Role.OWNER and not _may_touch_owners(actor):
        raise ApplicationError(ONLY_OWNERS_MANAGE_OWNERS)
    if Membership.objects.filter(account=account, user__email=email).exists():
        raise ApplicationError(ALREADY_MEMBER % {"email": email}, field="email")
    # An expired invitation no longer blocks a new one.
    Invitation.objects.filter(
        account=account,
        email=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__lte=timezone.now(),
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        account=account,
        email=email,
        role=role,
        invited_by=actor.user,
        token_hash=token_hash(token),
        expires_at=timezone.now() + dt.timedelta(days=INVITATION_LIFETIME_DAYS),
    )
    invitation.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as error:
        raise ApplicationError(ALREADY_INVITED % {"email": email}, field="email") from error
    team_event_record(
        account=account,
        actor=actor,
        summary=_("%(name)s invited %(email)s as %(role)s")
        % {"name": actor.user.full_name, "email": email, "role": Role(role).label},
    )
    link = settings.SITE_URL.rstrip("/") + reverse("accounts:invitation_accept", args=[token])
    # The link is a secret: the row is confidential, its body erased once sent.
    outbox_enqueue(
        kind="invitation",
        to=[email],
        subject=subject_line(
            _("%(name)s invited you to %(account)s on %(vendor)s"),
            name=actor.user.full_name,
            account=account.name,
            vendor=settings.VENDOR_NAME,
        ),
        text_body=_(
            "%(name)s invited you to join %(account)s as %(role)s.\n\n"
            "Accept within %(days)s days (the link works once):\n%(link)s\n"
        )
        % {
            "name": actor.user.full_name,
            "account": account.name,
            "role": Role(role).label,
            "days": INVITATION_LIFETIME_DAYS,
            "link": link,
        },
        confidential=True,
    )
    return token


@transaction.atomic
def invitation_revoke(*, account: Account, actor: Actor, invitation_id: int) -> None:
    require_capability(actor, account, Capability.MANAGE_USERS)
    invitation = Invitation.objects.select_for_update().get(account=account, pk=invitation_id)
    if invitation.accepted_at or invitation.revoked_at:
        return
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    team_event_record(
        account=account,
        actor=actor,
        summary=_("%(name)s revoked the invitation of %(email)s")
        % {"name": actor.user.full_name, "email": invitation.email},
    )


def invitation_for_token(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("account", "invited_by")
        .filter(token_hash=token_hash(token))
        .first()
    )


@transaction.atomic
def invitation_accept(
    *, token: str, user: User | None, full_name: str = "", password: str = ""
) -> Membership:
    """Join the account: as the signed-in user, or as a new user with a name and password."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("account")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_pending():
        raise ApplicationError(INVITATION_UNUSABLE)
    if user is None:
        if User.objects.filter(email=invitation.email).exists():
            raise ApplicationError(INVITATION_OTHER_EMAIL % {"email": invitation.email})
        user = User.objects.create_user(invitation.email, password, full_name=full_name)
    elif user.email != invitation.email:
        raise ApplicationError(INVITATION_OTHER_EMAIL % {"email": invitation.email})
    membership, _created = Membership.objects.get_or_create(
        user=user, account=invitation.account, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    team_event_record(
        account=invitation.account,
        actor=None,
        summary=_("%(name)s (%(email)s) accepted the invitation as %(role)s")
        % {"name": user.full_name, "email": user.email, "role": Role(membership.role).label},
    )
    return membership


def _lock_member(account: Account, member_id: int) -> Membership:
    # Lock every Owner row too, so two concurrent demotions cannot both see "another Owner".
    list(Membership.objects.select_for_update().filter(account=account, role=Role.OWNER))
    return (
        Membership.objects.select_for_update()
        .select_related("user")
        .get(account=account, pk=member_id)
    )


def _other_owners(account: Account, membership: Membership) -> bool:
    return (
        Membership.objects.filter(account=account, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def member_change_role(*, account: Account, actor: Actor, member_id: int, role: str) -> Membership:
    require_capability(actor, account, Capability.MANAGE_USERS)
    membership = _lock_member(account, member_id)
    if membership.role == role:
        return membership
    touches_owner = Role.OWNER in (membership.role, role)
    if touches_owner and not _may_touch_owners(actor):
        raise ApplicationError(ONLY_OWNERS_MANAGE_OWNERS)
    if membership.role == Role.OWNER and not _other_owners(account, membership):
        raise ApplicationError(LAST_OWNER)
    old = membership.get_role_display()
    membership.role = role
    membership.full_clean(validate_constraints=False)
    membership.save(update_fields=["role"])
    team_event_record(
        account=account,
        actor=actor,
        summary=_("%(name)s changed %(member)s from %(old)s to %(new)s")
        % {
            "name": actor.user.full_name,
            "member": membership.user.full_name,
            "old": old,
            "new": Role(role).label,
        },
    )
    return membership


@transaction.atomic
def member_remove(*, account: Account, actor: Actor, member_id: int) -> None:
    require_capability(actor, account, Capability.MANAGE_USERS)
    membership = _lock_member(account, member_id)
    if membership.role == Role.OWNER:
        if not _may_touch_owners(actor):
            raise ApplicationError(ONLY_OWNERS_MANAGE_OWNERS)
        if not _other_owners(account, membership):
            raise ApplicationError(LAST_OWNER)
    membership.delete()
    team_event_record(
        account=account,
        actor=actor,
        summary=_("%(name)s removed %(member)s (%(email)s)")
        % {
            "name": actor.user.full_name,
            "member": membership.user.full_name,
            "email": membership.user.email,
        },
    )


@transaction.atomic
def account_set_mfa_policy(*, account: Account, actor: Actor, required: bool) -> Account:
    require_capability(actor, account, Capability.SET_MFA_POLICY)
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.require_mfa == required:
        return account
    account.require_mfa = required
    account.save(update_fields=["require_mfa"])
    team_event_record(
        account=account,
        actor=actor,
        summary=(
            _("%(name)s required two-factor sign-in for all members")
            if required
            else _("%(name)s stopped requiring two-factor sign-in")
        )
        % {"name": actor.user.full_name},
    )
    return account
