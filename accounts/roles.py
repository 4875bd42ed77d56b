"""The authorization vocabulary: roles, capabilities and the one table that joins them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    ANALYST = "analyst", _("Analyst")


class Capability(models.TextChoices):
    """What a view needs. The label completes the sentence "You can't …"."""

    VIEW_ACCOUNT = "view_account", _("see this account")
    # Needed, on top of a view's own capability, by every unsafe method (POST, PUT, PATCH,
    # DELETE). Every role has it; a support representative on a view-only grant does not.
    MAKE_CHANGES = "make_changes", _("make changes")
    EDIT_SETTINGS = "edit_settings", _("change the account's settings")
    EDIT_SEGMENTS = "edit_segments", _("create or edit segments")
    MANAGE_REMOTE_ACCESS = "manage_remote_access", _("grant or remove support access")
    EXPORT_ACCESS_HISTORY = "export_access_history", _("download the access history")
    CONTACT_SUPPORT = "contact_support", _("contact support")
    CHANGE_PLAN = "change_plan", _("change the billing plan")
    IMPORT_DATA = "import_data", _("import data")
    MANAGE_USERS = "manage_users", _("invite, change or remove team members")
    RESET_MFA = "reset_mfa", _("reset a member's two-factor authentication")
    MANAGE_INTEGRATIONS = "manage_integrations", _("see or change integrations and API keys")
    SET_MFA_POLICY = "set_mfa_policy", _("change whether two-factor sign-in is required")
    DELETE_ACCOUNT = "delete_account", _("delete the account")
    TRANSFER_OWNERSHIP = "transfer_ownership", _("change the account's owner")
    # Not of an account: one's own profile and sign-in (two-factor, sessions). Every member
    # has it; a support representative does not (see authorization.own_sign_in).
    CHANGE_OWN_SIGN_IN = "change_own_sign_in", _("open their own profile or change their sign-in")


_EVERYONE = frozenset(
    {
        Capability.VIEW_ACCOUNT,
        Capability.MAKE_CHANGES,
        Capability.CONTACT_SUPPORT,
        Capability.CHANGE_OWN_SIGN_IN,
    }
)
_ADMIN = _EVERYONE | {
    Capability.EDIT_SETTINGS,
    Capability.EDIT_SEGMENTS,
    Capability.MANAGE_REMOTE_ACCESS,
    Capability.EXPORT_ACCESS_HISTORY,
    Capability.CHANGE_PLAN,
    Capability.IMPORT_DATA,
    Capability.MANAGE_USERS,
    Capability.RESET_MFA,
    Capability.MANAGE_INTEGRATIONS,
}

ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OWNER: _ADMIN
    | {Capability.SET_MFA_POLICY, Capability.DELETE_ACCOUNT, Capability.TRANSFER_OWNERSHIP},
    Role.ADMIN: _ADMIN,
    Role.MANAGER: _EVERYONE | {Capability.EDIT_SEGMENTS},
    Role.ANALYST: _EVERYONE,
}

# Roles that may grant support access; named in refusals ("Ask an Owner or Admin").
ROLES_WITH = {
    capability: [role for role in Role if capability in ROLE_CAPABILITIES[role]]
    for capability in Capability
}
