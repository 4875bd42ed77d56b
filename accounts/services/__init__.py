"""Writes for accounts: import services from here."""

from .mfa import (
    mfa_confirm,
    mfa_disable,
    mfa_match,
    mfa_reset_member,
    recovery_codes_renew,
    totp_device_preview,
    totp_key_new,
    totp_secret,
    user_has_mfa,
)
from .settings import account_update_settings
from .team import (
    account_set_mfa_policy,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_revoke,
    member_change_role,
    member_remove,
    team_event_record,
)

__all__ = [
    "account_set_mfa_policy",
    "account_update_settings",
    "invitation_accept",
    "invitation_create",
    "invitation_for_token",
    "invitation_revoke",
    "member_change_role",
    "member_remove",
    "mfa_confirm",
    "mfa_disable",
    "mfa_match",
    "mfa_reset_member",
    "recovery_codes_renew",
    "team_event_record",
    "totp_device_preview",
    "totp_key_new",
    "totp_secret",
    "user_has_mfa",
]
