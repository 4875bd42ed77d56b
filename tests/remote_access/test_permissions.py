import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import timezone

from remote_access.permissions import (
    ENTER_ACCOUNT,
    BasePermission,
    CanDisableRemoteAccess,
    CanEnterAccounts,
    HasLiveGrant,
    IsActiveStaff,
    RemoteAccessEnabled,
    SignedInWithTwoFactor,
)
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.remote_access.factories import GrantFactory


class Yes(BasePermission):
    message = "yes never fails"

    def has_permission(self, request, account):
        return True


class No(BasePermission):
    message = "no always fails"

    def has_permission(self, request, account):
        return False


def request_as(user, *, two_factor: bool = True):
    """A request as django-otp's middleware leaves it: the user says whether this sign-in
    was verified with a code."""
    request = RequestFactory().get("/admin/")
    if user.is_authenticated:
        user.is_verified = lambda: two_factor
    request.user = user
    return request


@pytest.mark.parametrize(
    ("permission", "expected", "message"),
    [
        (Yes() & Yes(), True, None),
        (Yes() & No(), False, "no always fails"),
        (No() & Yes(), False, "no always fails"),
        (Yes() | No(), True, None),
        (No() | Yes(), True, None),
        (No() | No(), False, "no always fails"),
        (~No(), True, None),
        (~Yes(), False, "This is not allowed here."),
        (~(Yes() & No()), True, None),
        (Yes() & (No() | Yes()), True, None),
    ],
)
def test_composition__truth_table_and_first_failing_message(permission, expected, message):
    assert permission.has_permission(request_as(AnonymousUser()), None) is expected
    assert permission.denial(request_as(AnonymousUser()), None) == message


def test_base_permission__grants_nothing_by_default():
    with pytest.raises(NotImplementedError):
        BasePermission().has_permission(request_as(AnonymousUser()), None)


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", False), ("member", False), ("inactive_staff", False), ("staff", True)],
)
def test_is_active_staff(who, expected, db):
    users = {
        "anonymous": lambda: AnonymousUser(),
        "member": lambda: UserFactory(),
        "inactive_staff": lambda: StaffUserFactory(is_active=False),
        "staff": lambda: StaffUserFactory(),
    }
    assert IsActiveStaff().has_permission(request_as(users[who]()), None) is expected


def test_can_enter_and_can_disable__follow_the_permissions(support_staff, csm, db):
    plain_staff = StaffUserFactory()
    assert CanEnterAccounts().has_permission(request_as(support_staff), None)
    assert CanEnterAccounts().has_permission(request_as(csm), None)
    assert not CanEnterAccounts().has_permission(request_as(plain_staff), None)
    assert not CanDisableRemoteAccess().has_permission(request_as(support_staff), None)
    assert CanDisableRemoteAccess().has_permission(request_as(csm), None)


def test_signed_in_with_two_factor(support_staff):
    assert SignedInWithTwoFactor().has_permission(request_as(support_staff), None)
    assert not SignedInWithTwoFactor().has_permission(
        request_as(support_staff, two_factor=False), None
    )
    assert not SignedInWithTwoFactor().has_permission(request_as(AnonymousUser()), None)


def test_remote_access_enabled(account):
    assert RemoteAccessEnabled().has_permission(None, account)
    account.remote_access_disabled = True
    assert not RemoteAccessEnabled().has_permission(None, account)


def test_has_live_grant__uses_the_clock(account, owner):
    assert not HasLiveGrant().has_permission(None, account)
    grant = GrantFactory(account=account, granted_by=owner)
    assert HasLiveGrant().has_permission(None, account)
    grant.expires_at = timezone.now() - dt.timedelta(seconds=1)
    grant.granted_at = grant.expires_at - dt.timedelta(days=1)
    grant.save()
    assert not HasLiveGrant().has_permission(None, account)


def test_enter_account__first_failing_check_speaks(account, owner, support_staff, db):
    plain_staff = StaffUserFactory()
    assert (
        ENTER_ACCOUNT.denial(request_as(UserFactory()), account) == "Only active staff can do this."
    )
    assert "permission to enter merchant accounts" in ENTER_ACCOUNT.denial(
        request_as(plain_staff), account
    )
    assert "needs two-factor sign-in" in ENTER_ACCOUNT.denial(
        request_as(support_staff, two_factor=False), account
    )
    assert "has not granted access" in ENTER_ACCOUNT.denial(request_as(support_staff), account)
    GrantFactory(account=account, granted_by=owner)
    assert ENTER_ACCOUNT.denial(request_as(support_staff), account) is None
    account.remote_access_disabled = True
    assert "turned off" in ENTER_ACCOUNT.denial(request_as(support_staff), account)
