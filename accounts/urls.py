from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .views import (
    auth,
    billing,
    general,
    integrations,
    notifications,
    password_reset,
    profile,
    team,
)

app_name = "accounts"

urlpatterns = [
    path("", general.home, name="home"),
    path("accounts/switch/<int:account_id>/", general.account_switch, name="switch"),
    path("settings/", general.settings_general, name="settings_general"),
    path("settings/team/", team.settings_team, name="settings_team"),
    path("settings/team/invite/", team.member_invite, name="member_invite"),
    path(
        "settings/team/invitations/<int:invitation_id>/revoke/",
        team.invitation_cancel,
        name="invitation_revoke",
    ),
    path("settings/team/members/<int:member_id>/role/", team.member_role, name="member_role"),
    path(
        "settings/team/members/<int:member_id>/remove/",
        team.member_remove_view,
        name="member_remove",
    ),
    path(
        "settings/team/members/<int:member_id>/reset-mfa/",
        team.member_reset_mfa,
        name="member_reset_mfa",
    ),
    path("settings/team/two-factor-policy/", team.mfa_policy, name="mfa_policy"),
    path("settings/billing/", billing.settings_billing, name="settings_billing"),
    path("settings/billing/change/<str:plan>/", billing.billing_change, name="billing_change"),
    path(
        "settings/integrations/",
        integrations.settings_integrations,
        name="settings_integrations",
    ),
    path(
        "settings/integrations/<int:integration_id>/reveal/",
        integrations.integration_reveal,
        name="integration_reveal",
    ),
    path(
        "settings/integrations/<int:integration_id>/rotate/",
        integrations.integration_rotate,
        name="integration_rotate",
    ),
    path("settings/integrations/api-keys/", integrations.api_key_new, name="api_key_create"),
    path(
        "settings/integrations/api-keys/<int:api_key_id>/revoke/",
        integrations.api_key_revoke_view,
        name="api_key_revoke",
    ),
    path("invitations/<str:token>/", auth.invitation_accept_view, name="invitation_accept"),
    path("profile/", profile.profile, name="profile"),
    path("profile/visit-mails/", notifications.visit_mails, name="visit_mails"),
    path("profile/two-factor/", profile.mfa_setup, name="mfa_setup"),
    path("profile/two-factor/off/", profile.mfa_turn_off, name="mfa_turn_off"),
    path(
        "profile/two-factor/recovery-codes/",
        profile.mfa_recovery_codes,
        name="mfa_recovery_codes",
    ),
    path(
        "profile/sessions/sign-out-others/",
        profile.sessions_end_others,
        name="sessions_end_others",
    ),
    path("accounts/login/", auth.SignInView.as_view(), name="login"),
    path("accounts/login/code/", auth.login_verify, name="login_verify"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        password_reset.password_reset_request,
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("accounts:password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
