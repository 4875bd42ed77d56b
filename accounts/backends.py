"""Signing in and loading the signed-in user: Django's ModelBackend, with the user, their
memberships and what other apps read about them (the live notice's visits) fetched in one
round trip, by queries compiled once per process.

Every signed-in page needs them (the current account, the role, the account menu, the
notice), and their round trips and ORM compilations were the largest part of an empty page
(docs/performance.md). Passwords, `is_active` and the session's hash are checked exactly as
Django checks them: only `get_user` differs.
"""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Model, QuerySet
from django.utils import timezone

from .compiled import CompiledQuery, run_together
from .models import User
from .selectors import USER_MEMBERSHIPS


def _user(*, user_id: int) -> QuerySet[User]:
    return User.objects.filter(pk=user_id)


_USER = CompiledQuery(_user, user_id=-730_011)

# Other apps' reads about the signed-in user, run in the same round trip as the user and
# their memberships; an app adds its own in AppConfig.ready() (remote_access: the visits
# going on in the user's accounts, for the live notice). Each query takes `user_id` and
# `now`; its objects land on `user.read_with_user[name]` for this request.
_READ_WITH_USER: dict[str, CompiledQuery] = {}


def read_with_user(name: str, query: CompiledQuery) -> None:
    _READ_WITH_USER[name] = query


def read_with_user_results(user) -> dict[str, list[Model]]:
    """What was read with the signed-in user ({} for a user loaded otherwise)."""
    return getattr(user, "read_with_user", {})


class UserBackend(ModelBackend):
    def get_user(self, user_id: int) -> User | None:
        now = timezone.now()
        names = list(_READ_WITH_USER)
        found, memberships, *others = run_together(
            _USER.bind(user_id=user_id),
            USER_MEMBERSHIPS.bind(user_id=user_id),
            *(_READ_WITH_USER[name].bind(user_id=user_id, now=now) for name in names),
        )
        user = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        for membership in memberships:
            membership.user = user
        # Read by accounts.selectors.memberships_for_request and the apps that asked, for
        # this request only: the user object lives as long as the request.
        user.loaded_memberships = memberships
        user.read_with_user = dict(zip(names, others, strict=True))
        return user
