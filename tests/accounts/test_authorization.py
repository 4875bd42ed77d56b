import pytest
from django.urls import reverse

from accounts.actors import MemberActor
from accounts.roles import (
    ROLE_CAPABILITIES,
    Capability,
    Role,
)
from remote_access.actors import REPRESENTATIVE_CAPABILITIES, REPRESENTATIVE_RESTRICTED
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory


@pytest.mark.parametrize(
    ("role", "capability", "allowed"),
    [
        (Role.OWNER, Capability.TRANSFER_OWNERSHIP, True),
        (Role.ADMIN, Capability.TRANSFER_OWNERSHIP, False),
        (Role.ADMIN, Capability.MANAGE_REMOTE_ACCESS, True),
        (Role.ADMIN, Capability.CHANGE_PLAN, True),
        (Role.MANAGER, Capability.EDIT_SEGMENTS, True),
        (Role.MANAGER, Capability.MANAGE_REMOTE_ACCESS, False),
        (Role.MANAGER, Capability.EDIT_SETTINGS, False),
        (Role.ANALYST, Capability.EDIT_SEGMENTS, False),
        (Role.ANALYST, Capability.VIEW_ACCOUNT, True),
        (Role.ANALYST, Capability.CONTACT_SUPPORT, True),
    ],
)
def test_role_capabilities__truth_table(role, capability, allowed):
    assert (capability in ROLE_CAPABILITIES[role]) is allowed


def test_representative_capabilities__admin_minus_restricted():
    """A representative can do what an Admin can, except the restricted actions."""
    assert ROLE_CAPABILITIES[Role.ADMIN] - REPRESENTATIVE_RESTRICTED == REPRESENTATIVE_CAPABILITIES
    for capability in (
        Capability.CHANGE_PLAN,
        Capability.IMPORT_DATA,
        Capability.MANAGE_USERS,
        Capability.RESET_MFA,
        Capability.MANAGE_INTEGRATIONS,
        Capability.MANAGE_REMOTE_ACCESS,
        Capability.DELETE_ACCOUNT,
        Capability.TRANSFER_OWNERSHIP,
    ):
        assert capability not in REPRESENTATIVE_CAPABILITIES
    assert Capability.EDIT_SEGMENTS in REPRESENTATIVE_CAPABILITIES


def test_denial_message__names_the_action_and_who_can(db):
    account = AccountFactory(name="Acme Store")
    actor = MemberActor.for_membership(user=UserFactory(), account=account, role=Role.ANALYST)
    message = actor.denial_message(Capability.MANAGE_REMOTE_ACCESS)
    assert message == (
        "You can't grant or remove support access in Acme Store. "
        "Only Owners and Admins can do that; ask one of them."
    )


def test_refusal__renders_403_and_the_actor_records_it(analyst, client_for, monkeypatch):
    """A missing capability is a 403 page that says why, and the actor is asked to record
    the refusal (a member's is a no-op; a representative's lands in the history)."""
    from accounts.actors import Actor

    heard = []
    monkeypatch.setattr(
        Actor, "record_refusal", lambda actor, capability: heard.append((actor.user, capability))
    )
    response = client_for(analyst).post(
        reverse("accounts:settings_general"), {"name": "Hacked", "timezone": "UTC"}
    )
    assert response.status_code == 403
    assert "change the account&#x27;s settings" in response.content.decode()
    assert heard == [(analyst, Capability.EDIT_SETTINGS)]
    analyst.memberships.get().account.refresh_from_db()
    assert analyst.memberships.get().account.name == "Acme Store"


def test_anonymous__sent_to_login_and_back(client):
    response = client.get(reverse("accounts:settings_general"))
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/settings/"


def test_user_without_membership__told_they_have_no_account(client_for, db):
    response = client_for(UserFactory()).get(reverse("accounts:home"))
    assert response.status_code == 403
    assert "not in any account" in response.content.decode()


def test_current_account__follows_session_choice(owner, other_account, client_for):
    MembershipFactory(user=owner, account=other_account, role=Role.ANALYST)
    client = client_for(owner)
    assert client.get("/").context["current_account"].name == "Acme Store"
    response = client.post(reverse("accounts:switch", args=[other_account.pk]))
    assert response.status_code == 302
    response = client.get("/")
    assert response.context["current_account"].name == "Globex"
    assert response.context["actor"].role == Role.ANALYST


def test_switch__to_foreign_account_is_404(owner, other_account, client_for):
    client = client_for(owner)
    assert client.post(reverse("accounts:switch", args=[other_account.pk])).status_code == 404
    assert client.post(reverse("accounts:switch", args=[999_999])).status_code == 404
    assert client.get("/").context["current_account"].name == "Acme Store"


def test_switch__get_changes_nothing(owner, other_account, client_for):
    MembershipFactory(user=owner, account=other_account)
    client = client_for(owner)
    assert client.get(reverse("accounts:switch", args=[other_account.pk])).status_code == 405
    assert client.get("/").context["current_account"].name == "Acme Store"
