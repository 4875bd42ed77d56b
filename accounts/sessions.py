"""Sessions in the database (a Redis outage signs nobody out), read with a query compiled
once per process: every signed-in request loads its session first (docs/performance.md)."""

import datetime as dt

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from .compiled import SENTINEL_NOW, CompiledQuery


def _live_session(*, session_key: str, now: dt.datetime):
    return Session.objects.filter(session_key=session_key, expire_date__gt=now)


_LIVE_SESSION = CompiledQuery(
    _live_session,
    session_key="\x00placeholder-session-key",
    now=SENTINEL_NOW,
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        # Django's own version, with the compiled query: a missing or expired session
        # forgets its key, so that saving makes a new one.
        found = _LIVE_SESSION(session_key=self.session_key, now=timezone.now())
        if not found:
            self._session_key = None
            return None
        return found[0]
