"""Writes for accounts: import services from here."""

from .mfa import (
    identity_verify,
    mfa_confirm,
    mfa_disable,
    mfa_match,
    mfa_reset_allowed,
    mfa_reset_member,
    mfa_setup_begin,
    mfa_setup_key,
    recovery_codes_renew,
    totp_device_preview,
    totp_secret,
    user_has_mfa,
    user_sessions_end_others,
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
    "identity_verify",
    "invitation_accept",
    "invitation_create",
    "invitation_for_token",
    "invitation_revoke",
    "member_change_role",
    "member_remove",
    "mfa_confirm",
    "mfa_disable",
    "mfa_match",
    "mfa_reset_allowed",
    "mfa_reset_member",
    "mfa_setup_begin",
    "mfa_setup_key",
    "recovery_codes_renew",
    "team_event_record",
    "totp_device_preview",
    "totp_secret",
    "user_has_mfa",
    "user_sessions_end_others",
]
