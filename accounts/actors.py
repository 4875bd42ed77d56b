"""Who is acting on a request: a member of the account, or someone another app plugs in.

The middleware puts an `Actor` on `request.latchkey.actor`. Views ask it `can(capability)`; they
never look at roles directly, so a support representative (defined in remote_access) is
checked by the very same code as a member.
"""

from dataclasses import dataclass
from typing import ClassVar

from django.utils.text import format_lazy
from django.utils.translation import gettext as _

from .models import Account, User
from .roles import ROLE_CAPABILITIES, ROLES_WITH, Capability, Role


def _roles_sentence(capability: Capability) -> str:
    labels = [str(role.label) + "s" for role in ROLES_WITH[capability]]
    if not labels:
        return _("nobody")
    if len(labels) == 1:
        return labels[0]
    return format_lazy("{} {} {}", ", ".join(labels[:-1]), _("and"), labels[-1])


@dataclass(frozen=True)
class Actor:
    user: User
    account: Account
    capabilities: frozenset[Capability]

    is_representative: ClassVar[bool] = False

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def description(self) -> str:
        """How the audit trail names this actor."""
        return f"{self.user.full_name} <{self.user.email}>"

    def record_refusal(self, capability: Capability) -> None:
        """Called when a view refuses this actor. A member's refusal is only the 403 page;
        a representative (remote_access) writes it to the merchant's access history."""

    def denial_message(self, capability: Capability) -> str:
        return _(
            "You can't %(action)s in %(account)s. Only %(roles)s can do that; ask one of them."
        ) % {
            "action": capability.label,
            "account": self.account.name,
            "roles": _roles_sentence(capability),
        }


@dataclass(frozen=True)
class MemberActor(Actor):
    role: Role = Role.ANALYST

    @classmethod
    def for_membership(cls, *, user: User, account: Account, role: str) -> "MemberActor":
        return cls(
            user=user, account=account, capabilities=ROLE_CAPABILITIES[role], role=Role(role)
        )
