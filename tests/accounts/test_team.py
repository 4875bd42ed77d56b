import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Invitation, Membership, TeamEvent, User
from accounts.roles import Role
from accounts.services.team import (
    LAST_OWNER,
    ONLY_OWNERS_MANAGE_OWNERS,
)
from tests.accounts.factories import PASSWORD

TEAM = reverse("accounts:settings_team")
INVITE = reverse("accounts:member_invite")


def role_url(member):
    return reverse("accounts:member_role", args=[member.pk])


def remove_url(member):
    return reverse("accounts:member_remove", args=[member.pk])


def reset_url(member):
    return reverse("accounts:member_reset_mfa", args=[member.pk])


def membership(user, account):
    return Membership.objects.get(user=user, account=account)


def text(response):
    return response.content.decode().replace("&#x27;", "'")


@pytest.fixture
def team(owner, admin, manager, analyst, account):
    """Acme Store with one member of each role."""
    return {
        role: membership(user, account)
        for role, user in (
            ("owner", owner),
            ("admin", admin),
            ("manager", manager),
            ("analyst", analyst),
        )
    }


# --- the role matrix -----------------------------------------------------------------------

ACTORS = [("owner", True), ("admin", True), ("manager", False), ("analyst", False)]


@pytest.mark.parametrize(("persona", "allowed"), ACTORS)
def test_invite__role_matrix(persona, allowed, team, request, client_for, account):
    response = client_for(request.getfixturevalue(persona)).post(
        INVITE, {"email": "new@acme.test", "role": "analyst"}
    )
    assert response.status_code == (302 if allowed else 403)
    assert Invitation.objects.filter(account=account).exists() is allowed


@pytest.mark.parametrize(("persona", "allowed"), ACTORS)
def test_change_role__role_matrix(persona, allowed, team, request, client_for):
    client_for(request.getfixturevalue(persona)).post(
        role_url(team["analyst"]), {"role": "manager"}
    )
    team["analyst"].refresh_from_db()
    assert (team["analyst"].role == Role.MANAGER) is allowed


@pytest.mark.parametrize(("persona", "allowed"), ACTORS)
def test_remove__role_matrix(persona, allowed, team, request, client_for):
    response = client_for(request.getfixturevalue(persona)).post(remove_url(team["analyst"]))
    assert response.status_code == (302 if allowed else 403)
    assert Membership.objects.filter(pk=team["analyst"].pk).exists() is not allowed


@pytest.mark.parametrize(("persona", "allowed"), ACTORS)
def test_reset_mfa__role_matrix(persona, allowed, team, request, client_for):
    TOTPDevice.objects.create(user=team["manager"].user, name="app", confirmed=True)
    response = client_for(request.getfixturevalue(persona)).post(reset_url(team["manager"]))
    assert response.status_code == (302 if allowed else 403)
    assert TOTPDevice.objects.filter(user=team["manager"].user).exists() is not allowed


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("owner", True), ("admin", False), ("manager", False), ("analyst", False)],
)
def test_mfa_policy__owners_only(persona, allowed, team, request, client_for, account):
    client_for(request.getfixturevalue(persona)).post(
        reverse("accounts:mfa_policy"), {"require_mfa": "on"}
    )
    account.refresh_from_db()
    assert account.require_mfa is allowed


def test_member_of_another_account__is_404(team, other_owner, other_account, client_for):
    foreign = membership(other_owner, other_account)
    client = client_for(team["owner"].user)
    assert client.post(role_url(foreign), {"role": "analyst"}).status_code == 404
    assert client.post(remove_url(foreign)).status_code == 404
    assert client.post(reset_url(foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.OWNER


# --- Owners are protected ------------------------------------------------------------------


def test_last_owner__cannot_be_demoted_or_removed(team, client_for):
    client = client_for(team["owner"].user)
    response = client.post(role_url(team["owner"]), {"role": "admin"}, follow=True)
    assert str(LAST_OWNER) in text(response)
    response = client.post(remove_url(team["owner"]), follow=True)
    assert str(LAST_OWNER) in text(response)
    team["owner"].refresh_from_db()
    assert team["owner"].role == Role.OWNER


def test_second_owner__lets_the_first_step_down(team, client_for):
    client = client_for(team["owner"].user)
    client.post(role_url(team["admin"]), {"role": "owner"})
    client.post(role_url(team["owner"]), {"role": "admin"})
    team["owner"].refresh_from_db()
    team["admin"].refresh_from_db()
    assert (team["owner"].role, team["admin"].role) == (Role.ADMIN, Role.OWNER)


def test_admin__cannot_make_touch_or_invite_owners(team, client_for, account):
    client = client_for(team["admin"].user)
    for response in (
        client.post(role_url(team["analyst"]), {"role": "owner"}, follow=True),
        client.post(role_url(team["owner"]), {"role": "analyst"}, follow=True),
        client.post(remove_url(team["owner"]), follow=True),
    ):
        assert str(ONLY_OWNERS_MANAGE_OWNERS) in text(response)
    response = client.post(INVITE, {"email": "boss@acme.test", "role": "owner"})
    assert response.status_code == 400
    assert "Choose one of the roles offered." in text(response)
    assert list(account.memberships.filter(role="owner").values_list("user__email", flat=True)) == [
        "owner@acme.test"
    ]
    assert not Invitation.objects.exists()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email", "role": "analyst"}, "Enter an email address"),
        ({"email": "", "role": "analyst"}, "This field is required."),
        ({"email": "x@acme.test", "role": "emperor"}, "Choose one of the roles offered."),
        ({"email": "Analyst@Acme.test", "role": "analyst"}, "already a member"),
    ],
)
def test_invite__bad_input_is_a_form_error_keeping_input(team, client_for, data, message):
    response = client_for(team["owner"].user).post(INVITE, data)
    assert response.status_code == 400
    assert message in text(response)
    if data["email"]:
        assert f'value="{data["email"]}"' in text(response)
    assert not Invitation.objects.exists()


def test_invite__twice_is_refused_until_revoked(team, client_for, account):
    client = client_for(team["owner"].user)
    client.post(INVITE, {"email": "new@acme.test", "role": "analyst"})
    assert "already has a pending invitation" in text(
        client.post(INVITE, {"email": "new@acme.test", "role": "admin"})
    )
    invitation = Invitation.objects.get()
    client.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
    assert client.post(INVITE, {"email": "new@acme.test", "role": "admin"}).status_code == 302
    assert Invitation.objects.filter(revoked_at__isnull=True).get().role == Role.ADMIN


def test_change_role__unknown_role_changes_nothing(team, client_for):
    response = client_for(team["owner"].user).post(
        role_url(team["analyst"]), {"role": "superuser"}, follow=True
    )
    assert "Choose one of the roles offered." in text(response)
    team["analyst"].refresh_from_db()
    assert team["analyst"].role == Role.ANALYST


# --- the invitation lifecycle --------------------------------------------------------------


def invite(client, email="new@acme.test", role="manager", capture=None):
    with capture(execute=True):
        client.post(INVITE, {"email": email, "role": role})
    link = mail.outbox[-1].body.split("http://127.0.0.1:8000", 1)[1].split()[0]
    return link


def test_invitation__new_person_joins_and_is_signed_in(
    team, client_for, client, account, django_capture_on_commit_callbacks
):
    link = invite(client_for(team["owner"].user), capture=django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == ["new@acme.test"]
    client.logout()
    page = client.get(link)
    assert "Join Acme Store" in text(page)
    response = client.post(link, {"full_name": "Nina New", "password": "a long unique passphrase"})
    assert response.url == "/"
    user = User.objects.get(email="new@acme.test")
    assert membership(user, account).role == Role.MANAGER
    assert client.get("/").context["current_account"] == account
    assert TeamEvent.objects.filter(summary__contains="accepted the invitation").exists()


def test_invitation__weak_password_is_refused_keeping_name(
    team, client_for, client, django_capture_on_commit_callbacks
):
    link = invite(client_for(team["owner"].user), capture=django_capture_on_commit_callbacks)
    client.logout()
    response = client.post(link, {"full_name": "Nina New", "password": "123"})
    assert response.status_code == 400
    assert 'value="Nina New"' in text(response)
    assert not User.objects.filter(email="new@acme.test").exists()


def test_invitation__single_use(team, client_for, client, django_capture_on_commit_callbacks):
    link = invite(client_for(team["owner"].user), capture=django_capture_on_commit_callbacks)
    client.logout()
    client.post(link, {"full_name": "Nina New", "password": "a long unique passphrase"})
    client.logout()
    assert client.get(link).status_code == 410
    response = client.post(link, {"full_name": "Eve", "password": "a long unique passphrase"})
    assert response.status_code == 410
    assert User.objects.filter(email="new@acme.test").count() == 1


def test_invitation__expired(
    team, client_for, client, time_machine, django_capture_on_commit_callbacks
):
    link = invite(client_for(team["owner"].user), capture=django_capture_on_commit_callbacks)
    client.logout()
    time_machine.move_to(timezone.now() + dt.timedelta(days=8))
    assert client.get(link).status_code == 410
    assert not User.objects.filter(email="new@acme.test").exists()


def test_invitation__revoked(team, client_for, client, django_capture_on_commit_callbacks):
    owner_client = client_for(team["owner"].user)
    link = invite(owner_client, capture=django_capture_on_commit_callbacks)
    owner_client.post(reverse("accounts:invitation_revoke", args=[Invitation.objects.get().pk]))
    client.logout()
    assert client.get(link).status_code == 410


def test_invitation__signed_in_as_someone_else_is_refused(
    team, client_for, other_owner, django_capture_on_commit_callbacks
):
    link = invite(client_for(team["owner"].user), capture=django_capture_on_commit_callbacks)
    client = client_for(other_owner)
    assert "signed in as someone else" in text(client.get(link))
    client.post(link)
    assert not Membership.objects.filter(user=other_owner, account=team["owner"].account).exists()


def test_invitation__existing_user_signs_in_then_joins(
    team, client_for, client, other_owner, other_account, django_capture_on_commit_callbacks
):
    link = invite(
        client_for(team["owner"].user),
        email=other_owner.email,
        capture=django_capture_on_commit_callbacks,
    )
    client.logout()
    assert "Sign in to accept" in text(client.get(link))
    client.post(
        reverse("accounts:login") + f"?next={link}",
        {"username": other_owner.email, "password": PASSWORD},
    )
    client.post(link)
    assert membership(other_owner, team["owner"].account).role == Role.MANAGER
    assert membership(other_owner, other_account).role == Role.OWNER


def test_invitation__unknown_token_is_410(client, db):
    assert client.get(reverse("accounts:invitation_accept", args=["nope"])).status_code == 410


# --- what the Team tab shows ---------------------------------------------------------------


def test_team_tab__members_roles_mfa_and_history_for_managers(team, client_for):
    TOTPDevice.objects.create(user=team["admin"].user, name="app", confirmed=True)
    owner_client = client_for(team["owner"].user)
    owner_client.post(role_url(team["analyst"]), {"role": "manager"})
    body = text(owner_client.get(TEAM))
    assert "Adam Admin" in body
    assert "Olivia Owner changed Andy Analyst from Analyst to Manager" in body
    assert "Invite a teammate" in body
    members = {m.user.email: m.has_mfa for m in owner_client.get(TEAM).context["members"]}
    assert members["admin@acme.test"] is True
    assert members["manager@acme.test"] is False


def test_team_tab__read_only_for_analyst(team, client_for):
    body = text(client_for(team["analyst"].user).get(TEAM))
    assert "Invite a teammate" not in body
    assert "Team changes" not in body
    assert "Olivia Owner" in body
