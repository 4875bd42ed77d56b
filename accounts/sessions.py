"""Sessions in the database (a Redis outage signs nobody out), read with a query compiled
once per process: every signed-in request loads its session first (docs/performance.md).

A session this process has loaded before is read together with what its user's request
needs (accounts.backends: the first round trip), from what the session held last time:
the results are used only if the session, once loaded, asks for exactly the same.
"""

import contextlib
import datetime as dt
from collections.abc import Callable, Mapping

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db.models import Model
from django.utils import timezone

from .compiled import SENTINEL_NOW, Bound, CompiledQuery, run_together


def _live_session(*, session_key: str, now: dt.datetime):
    return Session.objects.filter(session_key=session_key, expire_date__gt=now)


_LIVE_SESSION = CompiledQuery(
    _live_session,
    session_key="\x00placeholder-session-key",
    now=SENTINEL_NOW,
)

# What each signed-in session held when this process last loaded or saved it, by key: the
# guess the next request's reads are made from. Bounded; a forgotten guess costs one round
# trip, a wrong one too (its results are dropped).
_HELD: dict[str, dict] = {}
HELD_KEPT = 10_000


def _remember(session_key: str, data: dict) -> None:
    # Taken out and put back: the dict's order is then least recently loaded first.
    _HELD.pop(session_key, None)
    if len(_HELD) >= HELD_KEPT:
        # The least recently loaded; another thread may have got there first.
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):
            del _HELD[next(iter(_HELD))]
    _HELD[session_key] = dict(data)


def forget_held_sessions() -> None:
    _HELD.clear()


class SessionStore(db.SessionStore):
    # Set by accounts.backends.plan_reads before the session loads: the reads to make with
    # it, from what a session holds.
    read_ahead: Callable[[Mapping], dict[str, Bound]] | None = None
    _read_ahead: tuple[dict[str, Bound], dict[str, list[Model]]] | None = None

    def _get_session_from_db(self) -> Session | None:
        # Django's own version, with the compiled query: a missing or expired session
        # forgets its key, so that saving makes a new one.
        held = _HELD.get(self.session_key) if self.read_ahead else None
        ahead = self.read_ahead(held) if held is not None else {}
        found, *results = run_together(
            _LIVE_SESSION.bind(session_key=self.session_key, now=timezone.now()),
            *ahead.values(),
        )
        if not found:
            self._session_key = None
            return None
        if ahead:
            self._read_ahead = (ahead, dict(zip(ahead, results, strict=True)))
        return found[0]

    def load(self) -> dict:
        data = super().load()
        if self.session_key is not None and SESSION_KEY in data:
            _remember(self.session_key, data)
        return data

    def save(self, must_create: bool = False) -> None:
        super().save(must_create)
        # What it holds now is what its next load will find (the account a page kept, say).
        data = self._get_session(no_load=must_create)
        if SESSION_KEY in data:
            _remember(self.session_key, data)

    def read_ahead_results(self, reads: dict[str, Bound]) -> dict[str, list[Model]] | None:
        """The results read with the session, if they are of exactly these reads."""
        if self._read_ahead is not None and self._read_ahead[0] == reads:
            return self._read_ahead[1]
        return None

    def delete(self, session_key: str | None = None) -> None:
        _HELD.pop(session_key or self.session_key, None)
        super().delete(session_key)
