"""Every service checks its caller itself (DESIGN §5.11), whatever view or task calls it.

The walk lists every public function of every service module. Each must appear below:
either with a call made by an under-privileged caller, which must be refused, or with the
reason it has no caller to check. A service added without an entry fails
`test_every_service_is_covered`.
"""

import importlib
import inspect
import pkgutil

import pytest

from accounts.actors import MemberActor
from accounts.authorization import CapabilityMissing
from accounts.errors import ApplicationError
from accounts.roles import Role
from tests.accounts.factories import MembershipFactory, StaffUserFactory
from tests.remote_access.factories import (
    AccessRequestFactory,
    GrantFactory,
    RepresentativeSessionFactory,
    SupportRequestFactory,
)

SERVICE_PACKAGES = ["accounts.services", "remote_access.services"]
SERVICE_MODULES = ["audience.services", "audience.importing"]

# Functions with no caller to check, and why. Keep the reason honest: this list is read.
NO_CALLER = {
    # The person acting on themselves: the signed-in user is the only possible caller.
    "accounts.services.mfa.mfa_confirm": "one's own two-factor; needs a ticket from setup_begin",
    "accounts.services.mfa.mfa_disable": "one's own two-factor; needs a current code",
    "accounts.services.mfa.mfa_setup_begin": "one's own two-factor; needs the current factor",
    "accounts.services.mfa.recovery_codes_renew": "one's own recovery codes; needs a code",
    "accounts.services.mfa.user_sessions_end_others": "one's own sessions; password or code",
    "accounts.services.mfa.mfa_match": "checks a code; changes only django-otp's throttle",
    "accounts.services.mfa.password_check": "checks a password; changes only a counter",
    "accounts.services.mfa.identity_verify": "checks a password or code; changes nothing",
    "accounts.services.mfa.security_mail_send": "mails the user about their own sign-in",
    "accounts.services.team.invitation_accept": "the single-use invitation token is the check",
    # Reads and pure helpers: they change nothing.
    "accounts.services.mfa.mfa_setup_key": "reads a signed ticket",
    "accounts.services.mfa.mfa_reset_allowed": "pure rule; mfa_reset_member applies it",
    "accounts.services.mfa.totp_device_preview": "unsaved device; changes nothing",
    "accounts.services.mfa.totp_secret": "pure",
    "accounts.services.mfa.confirmed_devices": "read",
    "accounts.services.mfa.user_has_mfa": "read",
    "accounts.services.team.invitation_for_token": "read",
    "accounts.services.integrations.integration_secrets": "read; its view requires the capability",
    "accounts.services.integrations.mask": "pure",
    "accounts.services.integrations.api_key_check": "read; authenticates an API call",
    "remote_access.services.common.actor_facts": "pure",
    "audience.importing.column_mapping": "pure",
    "audience.importing.read_rows": "pure",
    "audience.importing.check_row": "pure",
    "audience.importing.import_preview": "read of a job its view already scoped",
    "audience.importing.import_plan": "read: the plan figures of a job its view already scoped",
    "audience.importing.import_recover_stalled": "beat task recover_imports",
    # Steps inside a service that checked its caller; never called from a view or task.
    "accounts.services.team.team_event_record": "called inside checked team services",
    "remote_access.services.common.lock_account": "called inside checked services",
    "remote_access.services.common.event_record": "called inside checked services",
    "remote_access.services.ending.grant_end": "called inside remove, replace, turn-off, sweep",
    "remote_access.services.visits.visits_end_for_grant": "called inside grant_end",
    "remote_access.services.visits.visit_end": (
        "the visit's own staff user leaving, or the visit middleware ending a visit that may "
        "not go on: ending access never needs a permission"
    ),
    "remote_access.services.grants.notify_change": "queues mail after a checked change",
    # The system: beat, workers and operators' commands, never a person's request.
    "remote_access.services.expiry.grants_expire_due": "beat task / manage.py expire_grants",
    "remote_access.services.expiry.grant_expire_if_overdue": "the clock, inside checked services",
    "remote_access.services.expiry.expiry_warnings_queue": "beat task",
    "remote_access.services.requests.access_requests_expire_due": "beat task (tidying only)",
    "remote_access.services.staff.staff_teams_ensure": "operator command ensure_staff_teams",
    "remote_access.services.staff.staff_member_set_team": "operator command / seed_demo",
    "audience.importing.import_run": "worker task for a job confirmed by a checked service",
}


def _public_functions(module) -> dict[str, object]:
    return {
        f"{module.__name__}.{name}": function
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
    }


def service_functions() -> dict[str, object]:
    found = {}
    for package_name in SERVICE_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            found |= _public_functions(importlib.import_module(f"{package_name}.{info.name}"))
    for module_name in SERVICE_MODULES:
        found |= _public_functions(importlib.import_module(module_name))
    return found


@pytest.fixture
def world(account, other_account, owner, analyst, other_owner):
    """An Analyst of Acme Store, an Owner of Globex (another tenant) and a plain staff user
    with no permission, plus what the services act on."""
    from accounts.services.integrations import api_key_create, integration_create
    from accounts.services.team import invitation_create
    from audience.models import ImportJob, Segment
    from tests.accounts.factories import owner_actor

    owner_of_acme = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    member = MembershipFactory(account=account, role=Role.MANAGER)
    integration = integration_create(
        account=account,
        actor=owner_actor(account),
        name="Shop",
        store_url="https://s.example",
        api_key="k",
        webhook_secret="w",
    )
    api_key, _key = api_key_create(account=account, actor=owner_of_acme, label="CI")
    invitation_create(account=account, actor=owner_of_acme, email="new@acme.test", role="analyst")
    grant = GrantFactory(account=account, granted_by=owner)
    return {
        "account": account,
        "analyst": MemberActor.for_membership(user=analyst, account=account, role=Role.ANALYST),
        "foreign_owner": MemberActor.for_membership(
            user=other_owner, account=other_account, role=Role.OWNER
        ),
        "staff": StaffUserFactory(),
        "member_id": member.pk,
        "integration_id": integration.pk,
        "api_key_id": api_key.pk,
        "invitation_id": account.invitations.get().pk,
        "grant_id": grant.pk,
        "access_request_id": AccessRequestFactory(account=account).pk,
        "support_request": SupportRequestFactory(account=account, requested_by=owner),
        "visit_id": RepresentativeSessionFactory(grant=grant).pk,
        "segment": Segment.objects.create(account=account, name="S", match="all", conditions=[]),
        "job": ImportJob.objects.create(
            account=account, created_by=owner, file_name="a.csv", content=b"email\na@b.c\n"
        ),
    }


# service → how an under-privileged `caller` calls it, given the world `w`.
CALLS = {
    "accounts.services.billing.plan_change": lambda w, caller: dict(
        account=w["account"], actor=caller, plan="pro"
    ),
    "accounts.services.settings.account_update_settings": lambda w, caller: dict(
        account=w["account"], actor=caller, name="Hacked", timezone="UTC"
    ),
    "accounts.services.integrations.integration_create": lambda w, caller: dict(
        account=w["account"],
        actor=caller,
        name="x",
        store_url="https://x.example",
        api_key="k",
        webhook_secret="w",
    ),
    "accounts.services.integrations.integration_rotate_webhook_secret": lambda w, caller: dict(
        account=w["account"], actor=caller, integration_id=w["integration_id"]
    ),
    "accounts.services.integrations.api_key_create": lambda w, caller: dict(
        account=w["account"], actor=caller, label="x"
    ),
    "accounts.services.integrations.api_key_revoke": lambda w, caller: dict(
        account=w["account"], actor=caller, api_key_id=w["api_key_id"]
    ),
    "accounts.services.mfa.mfa_reset_member": lambda w, caller: dict(
        account=w["account"], actor=caller, member_id=w["member_id"]
    ),
    "accounts.services.team.invitation_create": lambda w, caller: dict(
        account=w["account"], actor=caller, email="x@acme.test", role="analyst"
    ),
    "accounts.services.team.invitation_revoke": lambda w, caller: dict(
        account=w["account"], actor=caller, invitation_id=w["invitation_id"]
    ),
    "accounts.services.team.member_change_role": lambda w, caller: dict(
        account=w["account"], actor=caller, member_id=w["member_id"], role="owner"
    ),
    "accounts.services.team.member_remove": lambda w, caller: dict(
        account=w["account"], actor=caller, member_id=w["member_id"]
    ),
    "accounts.services.team.account_set_mfa_policy": lambda w, caller: dict(
        account=w["account"], actor=caller, required=True
    ),
    "remote_access.services.grants.access_grant": lambda w, caller: dict(
        account=w["account"], actor=caller, duration="7d", expected_current_grant_id=w["grant_id"]
    ),
    "remote_access.services.grants.access_remove": lambda w, caller: dict(
        account=w["account"], actor=caller, grant_id=w["grant_id"]
    ),
    "remote_access.services.asking.access_ask": lambda w, caller: dict(
        account=w["account"], actor=caller
    ),
    "remote_access.services.grants.support_request_create": lambda w, caller: dict(
        account=w["account"], actor=caller, team="support", subject="s", message="m"
    ),
    "remote_access.services.requests.access_request_approve": lambda w, caller: dict(
        account=w["account"], actor=caller, request_id=w["access_request_id"], duration="7d"
    ),
    "remote_access.services.requests.access_request_deny": lambda w, caller: dict(
        account=w["account"], actor=caller, request_id=w["access_request_id"]
    ),
    "remote_access.services.merchant.visit_end_by_merchant": lambda w, caller: dict(
        account=w["account"], actor=caller, visit_id=w["visit_id"], remove_access=True
    ),
    "accounts.services.notifications.membership_visit_mails_set": lambda w, caller: dict(
        account=w["account"], actor=caller, on=False
    ),
    "audience.services.segment_save": lambda w, caller: dict(
        account=w["account"], actor=caller, name="x", match="all", conditions=[]
    ),
    "audience.services.segment_delete": lambda w, caller: dict(
        account=w["account"], actor=caller, segment=w["segment"]
    ),
    "audience.importing.import_prepare": lambda w, caller: dict(
        account=w["account"], actor=caller, file_name="a.csv", content=b"email\na@b.c\n"
    ),
    "audience.importing.import_confirm": lambda w, caller: dict(job=w["job"], actor=caller),
    "audience.importing.import_restart": lambda w, caller: dict(job=w["job"], actor=caller),
}
# Staff services: the caller is a staff user without the permission.
STAFF_CALLS = {
    "remote_access.services.visits.visit_start": lambda w: dict(
        account=w["account"], staff_user=w["staff"], ticket_reference="1"
    ),
    "remote_access.services.turn_off.remote_access_disable": lambda w: dict(
        account=w["account"], staff_user=w["staff"], reason="asked"
    ),
    "remote_access.services.turn_off.remote_access_enable": lambda w: dict(
        account=w["account"], staff_user=w["staff"]
    ),
    "remote_access.services.requests.access_request_create": lambda w: dict(
        account=w["account"],
        staff_user=w["staff"],
        ticket_reference="1",
        reason="r",
        duration="7d",
    ),
    "remote_access.services.requests.support_request_resolve": lambda w: dict(
        support_request=w["support_request"], staff_user=w["staff"]
    ),
    "remote_access.services.requests.support_request_reopen": lambda w: dict(
        support_request=w["support_request"], staff_user=w["staff"]
    ),
}
# Refused to an Analyst of the account and to an Owner of another account alike, except
# where every member may act (contacting support): there only the other tenant is refused.
EVERY_MEMBER_MAY = {
    "remote_access.services.grants.support_request_create",
    "remote_access.services.asking.access_ask",
    "accounts.services.notifications.membership_visit_mails_set",  # one's own mails
}


def test_every_service_is_covered():
    services = set(service_functions())
    covered = set(CALLS) | set(STAFF_CALLS) | set(NO_CALLER)
    assert sorted(services - covered) == [], "add the new service to this walk"
    assert sorted(covered - services) == [], "a listed service no longer exists"


def _cases():
    for name in CALLS:
        for caller in ("analyst", "foreign_owner"):
            if caller == "analyst" and name in EVERY_MEMBER_MAY:
                continue
            yield pytest.param(name, caller, id=f"{name.rsplit('.', 1)[1]}-{caller}")


@pytest.mark.parametrize(("name", "caller"), list(_cases()))
def test_member_service__refuses_an_under_privileged_caller(name, caller, world):
    """Refused by the capability check, not by some later validation."""
    function = service_functions()[name]
    with pytest.raises(CapabilityMissing):
        function(**CALLS[name](world, world[caller]))


@pytest.mark.parametrize("name", list(STAFF_CALLS))
def test_staff_service__refuses_staff_without_the_permission(name, world):
    function = service_functions()[name]
    refusals = "permission to enter|Only customer success|Only staff who may enter"
    with pytest.raises(ApplicationError, match=refusals):
        function(**STAFF_CALLS[name](world))
