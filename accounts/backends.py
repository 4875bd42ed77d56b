"""Signing in and loading the signed-in user: Django's ModelBackend, with the user, their
memberships and what other apps read about them (the live notice's visits) fetched in one
round trip, by queries compiled once per process.

Every signed-in page needs them (the current account, the role, the account menu, the
notice), and their round trips and ORM compilations were the largest part of an empty page
(docs/performance.md). Passwords, `is_active` and the session's hash are checked exactly as
Django checks them: only `get_user` differs.
"""

from collections.abc import Callable
from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Model, QuerySet
from django.utils import timezone

from .compiled import Bound, CompiledQuery, run_together
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


# Reads that depend on what the session holds (remote_access: the visit it is in), bound by
# `SessionReadsMiddleware` from the session before anything loads the user, and run in the
# same round trip as the user. A provider returns None when its session holds nothing.
SessionRead = Callable[[SessionBase], Bound | None]
_READ_WITH_SESSION: dict[str, SessionRead] = {}
# This request's: (the session's user id, {name: bound query}); reset after each request.
_session_reads: ContextVar[tuple[str | None, dict[str, Bound]]] = ContextVar(
    "session_reads", default=(None, {})
)


def read_with_session(name: str, provider: SessionRead) -> None:
    _READ_WITH_SESSION[name] = provider


def bind_session_reads(session: SessionBase):
    """Bind every provider's read for this session; returns the token to reset with."""
    bound = {}
    user_id = session.get(SESSION_KEY)
    if user_id is not None:
        for name, provider in _READ_WITH_SESSION.items():
            if (read := provider(session)) is not None:
                bound[name] = read
    return _session_reads.set((user_id, bound))


def reset_session_reads(token) -> None:
    _session_reads.reset(token)


class UserBackend(ModelBackend):
    def get_user(self, user_id: int) -> User | None:
        now = timezone.now()
        session_user_id, session_reads = _session_reads.get()
        if session_user_id != str(user_id):  # another user than the session's: not theirs
            session_reads = {}
        reads = {
            **{
                name: query.bind(user_id=user_id, now=now)
                for name, query in _READ_WITH_USER.items()
            },
            **session_reads,
        }
        names = list(reads)
        found, memberships, *others = run_together(
            _USER.bind(user_id=user_id),
            USER_MEMBERSHIPS.bind(user_id=user_id),
            *reads.values(),
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
