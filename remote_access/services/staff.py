"""Vendor staff teams: Django groups that carry the remote-access permissions."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts.models import User

from ..rules import DISABLE_PERMISSION, ENTER_PERMISSION
from ..selectors import STAFF_TEAM_GROUPS

# What every support team may see in the admin, and do: enter accounts on a live grant.
TEAM_PERMISSIONS = [
    ("accounts", "view_account"),
    ("accounts", "view_membership"),
    ("remote_access", "view_remoteaccessgrant"),
    ("remote_access", "view_representativesession"),
    ("remote_access", "view_accessevent"),
    ("remote_access", "view_supportrequest"),
    ("remote_access", "view_accessrequest"),
    ENTER_PERMISSION,
]


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@transaction.atomic
def staff_teams_ensure() -> dict[str, Group]:
    """Create the Support, Onboarding and Success groups with their permissions (idempotent)."""
    permissions = [_permission(*pair) for pair in TEAM_PERMISSIONS]
    teams = {}
    for name in STAFF_TEAM_GROUPS:
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)
        teams[name] = group
    return teams


@transaction.atomic
def staff_member_set_team(*, user: User, team: str, may_disable: bool = False) -> None:
    """Put a staff user in one team; `may_disable` adds the permission customer success
    managers have, to turn remote access off and on for an account."""
    teams = staff_teams_ensure()
    user.groups.remove(*[group for name, group in teams.items() if name != team])
    user.groups.add(teams[team])
    disable = _permission(*DISABLE_PERMISSION)
    if may_disable:
        user.user_permissions.add(disable)
    else:
        user.user_permissions.remove(disable)
