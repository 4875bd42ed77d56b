from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.roles import ROLE_CAPABILITIES, Capability, Role

from .models import AccessEvent, RepresentativeSession, Scope, Team

# What a support representative may never do, however live their grant (DESIGN §3). This is
# remote access's business, so it lives here; accounts only knows roles and capabilities.
REPRESENTATIVE_RESTRICTED: frozenset[Capability] = frozenset(
    {
        Capability.CHANGE_PLAN,
        Capability.IMPORT_DATA,
        Capability.MANAGE_USERS,
        Capability.RESET_MFA,
        Capability.MANAGE_INTEGRATIONS,
        Capability.MANAGE_REMOTE_ACCESS,
        Capability.SET_MFA_POLICY,
        Capability.DELETE_ACCOUNT,
        Capability.TRANSFER_OWNERSHIP,
        # The staff user's own profile and second factor, from inside a merchant's account:
        # whoever holds the visit's browser must not take over the staff account.
        Capability.CHANGE_OWN_SIGN_IN,
    }
)
REPRESENTATIVE_CAPABILITIES: frozenset[Capability] = (
    ROLE_CAPABILITIES[Role.ADMIN] - REPRESENTATIVE_RESTRICTED
)
# A view-only grant: every page a representative may open, and no unsafe method at all
# (accounts.authorization asks MAKE_CHANGES of every POST, PUT, PATCH and DELETE).
VIEW_ONLY_CAPABILITIES: frozenset[Capability] = REPRESENTATIVE_CAPABILITIES - {
    Capability.MAKE_CHANGES
}


def representative_capabilities(scope: str) -> frozenset[Capability]:
    """What a representative may do on a grant of `scope`: the one place that decides it."""
    if scope == Scope.VIEW_ONLY:
        return VIEW_ONLY_CAPABILITIES
    return REPRESENTATIVE_CAPABILITIES


@dataclass(frozen=True)
class RepresentativeActor(Actor):
    """Vendor staff acting in a merchant account on a live grant. Always themselves, never a
    merchant user; their capabilities are an Admin's minus the restricted actions."""

    session: RepresentativeSession | None = None

    is_representative: ClassVar[bool] = True

    @classmethod
    def for_session(cls, session: RepresentativeSession) -> "RepresentativeActor":
        return cls(
            user=session.staff_user,
            account=session.account,
            capabilities=representative_capabilities(session.grant.scope),
            session=session,
        )

    @property
    def team_label(self) -> str:
        return f"{settings.VENDOR_NAME} {Team(self.session.team).label}"

    @property
    def description(self) -> str:
        return f"{self.user.full_name} <{self.user.email}> ({self.team_label})"

    def record_refusal(self, capability: Capability) -> None:
        from .services import event_record

        event_record(
            account=self.account,
            kind=AccessEvent.Kind.ACTION_BLOCKED,
            actor=self,
            grant=self.session.grant,
            session=self.session,
            result=403,
            payload={"capability": str(capability)},
        )

    def denial_message(self, capability: Capability) -> str:
        if capability == Capability.MAKE_CHANGES:
            return _(
                "%(account)s granted view-only access: support can look at every page but "
                "can't make changes. Ask an Owner or Admin to make the change, or to grant "
                "full access."
            ) % {"account": self.account.name}
        return _(
            "Support representatives can't %(action)s, even while access is granted. "
            "Ask an Owner or Admin of %(account)s to do it."
        ) % {"action": capability.label, "account": self.account.name}
