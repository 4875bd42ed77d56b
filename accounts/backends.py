"""Signing in and loading the signed-in user: Django's ModelBackend, with the user, their
memberships and what other apps read for the request fetched together, by queries compiled
once per process.

Every signed-in page needs them (the current account, the role, the account menu, the live
notice), and their round trips were the largest part of an empty page
(docs/performance.md). They come in **the first round trip**: a request reads its session
first, and the user's id is inside the session's signed data, so the user would be a second
round trip. When this process has loaded the session before, it reads everything in one,
from what the session held last time (accounts.sessions), and keeps those results only if
the session still holds the same; else it reads them as a second round trip.

Passwords, `is_active` and the session's hash are checked exactly as Django checks them:
only `get_user` differs.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .compiled import Bound, CompiledQuery, run_together
from .models import User
from .selectors import USER_MEMBERSHIPS


def _user(*, user_id: int) -> QuerySet[User]:
    return User.objects.filter(pk=user_id)


_USER = CompiledQuery(_user, user_id=-730_011)
USER_READ, MEMBERSHIPS_READ = "user", "memberships"


@dataclass(frozen=True)
class RequestFacts:
    """What is known of a request before its first query."""

    session: Mapping[str, Any]  # what the session holds
    path: str
    now: dt.datetime


# Other apps' reads about the signed-in user (remote_access: the visits going on in the
# user's accounts, for the live notice); each query takes `user_id` and `now`.
_READ_WITH_USER: dict[str, CompiledQuery] = {}
# Other apps' reads for what the request is (remote_access: the visit the session is in;
# the Security tab's own reads): each provider returns {name: bound query}, {} for none.
RequestRead = Callable[[RequestFacts], dict[str, Bound]]
_READ_WITH_REQUEST: list[RequestRead] = []


def read_with_user(name: str, query: CompiledQuery) -> None:
    """Register in AppConfig.ready(); the objects land on `user.read_with_user[name]`."""
    _READ_WITH_USER[name] = query


def read_with_request(provider: RequestRead) -> None:
    """Register in AppConfig.ready(); the objects land on `user.read_with_user[name]`."""
    _READ_WITH_REQUEST.append(provider)


def read_with_user_results(user) -> dict[str, list[Model]]:
    """What was read with the signed-in user ({} for a user loaded otherwise)."""
    return getattr(user, "read_with_user", {})


def user_reads(facts: RequestFacts) -> dict[str, Bound]:
    """Everything read with the session's user for this request, bound ({} without one)."""
    try:
        user_id = User._meta.pk.to_python(facts.session.get(SESSION_KEY))
    except ValidationError:
        return {}
    if user_id is None:
        return {}
    reads = {
        USER_READ: _USER.bind(user_id=user_id),
        MEMBERSHIPS_READ: USER_MEMBERSHIPS.bind(user_id=user_id),
    }
    for name, query in _READ_WITH_USER.items():
        reads[name] = query.bind(user_id=user_id, now=facts.now)
    for provider in _READ_WITH_REQUEST:
        reads.update(provider(facts))
    return reads


@dataclass(frozen=True)
class _Planned:
    user_id: Any
    reads: dict[str, Bound]
    results: dict[str, list[Model]] | None  # read ahead with the session, else None


# This request's plan, from `plan_reads`; reset after each request.
_planned: ContextVar[_Planned | None] = ContextVar("planned_reads", default=None)


def plan_reads(request: HttpRequest):
    """Before anything loads the session (SessionReadsMiddleware): plan what is read with
    the user, let the session read it ahead, and keep what was read ahead if it is exactly
    what the loaded session asks for. Returns the token to reset with."""
    session = request.session
    facts = partial(RequestFacts, path=request.path_info, now=timezone.now())
    session.read_ahead = lambda held: user_reads(facts(session=held))
    reads = user_reads(facts(session=session))  # loads the session
    results = getattr(session, "read_ahead_results", lambda reads: None)(reads)
    user_id = reads[USER_READ].values["user_id"] if reads else None
    return _planned.set(_Planned(user_id=user_id, reads=reads, results=results))


def reset_planned_reads(token) -> None:
    _planned.reset(token)


class UserBackend(ModelBackend):
    def get_user(self, user_id: int) -> User | None:
        planned = _planned.get()
        if planned is not None and planned.user_id == user_id:
            reads, results = planned.reads, planned.results
        else:  # another user than the session's: nothing the session asked for
            facts = RequestFacts(session={SESSION_KEY: user_id}, path="", now=timezone.now())
            reads, results = user_reads(facts), None
        if results is None:
            results = dict(zip(reads, run_together(*reads.values()), strict=True))
        found, memberships = results[USER_READ], results[MEMBERSHIPS_READ]
        user = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        for membership in memberships:
            membership.user = user
        # Read by accounts.selectors.memberships_for_request and the apps that asked, for
        # this request only: the user object lives as long as the request.
        user.loaded_memberships = memberships
        user.read_with_user = {
            name: objects
            for name, objects in results.items()
            if name not in (USER_READ, MEMBERSHIPS_READ)
        }
        return user
