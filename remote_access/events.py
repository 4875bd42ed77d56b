"""The words of the access history: one sentence per kind, rendered from an event's facts.

Rows hold facts only (DESIGN §4, STYLE 16), so whoever wrote a row — a service, the visit
middleware or the expiry sweep's SQL — the merchant reads the same sentence, in their
language. Sentences are rendered from `EventFacts`, plain values: the pages build them from
model instances fetched with `EVENT_RELATED` or given their account (`describe`;
`selectors.with_sentences`), the CSV export from the plain rows it streams
(remote_access.history), so both say the same thing from one wording.
"""

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import NamedTuple

from django.utils.translation import get_language, gettext

from accounts.models import short_name
from accounts.roles import Capability
from accounts.timefmt import day_text

from .models import AccessEvent, Duration, RepresentativeSession, Team
from .timefmt import grant_end_phrase
from .wording import scope_phrase, ticket_label


@lru_cache(maxsize=512)
def _translated(language: str | None, message: str) -> str:
    return gettext(message)


# The language fixed by `one_language` for the sentences rendered inside it; None outside.
_fixed_language: ContextVar[str | None] = ContextVar("sentence_language", default=None)


def _(message: str) -> str:
    """gettext, remembered per language: an export renders a million sentences from a few
    dozen messages, and a lookup each time was a third of its cost."""
    language = _fixed_language.get()
    return _translated(get_language() if language is None else language, message)


@contextmanager
def one_language() -> Iterator[None]:
    """Within, sentences are rendered in the language active on entry without asking Django
    for it at each message: asking (a context-local read) cost an export of a million
    sentences several seconds. Hold it around plain work only, never around a `yield`."""
    token = _fixed_language.set(get_language())
    try:
        yield
    finally:
        _fixed_language.reset(token)


Kind = AccessEvent.Kind
EndReason = RepresentativeSession.EndReason

# What `describe` reads besides the row itself: the event's account, and these.
EVENT_RELATED_BESIDES_ACCOUNT = ("actor", "grant", "session")
EVENT_RELATED = ("account", *EVENT_RELATED_BESIDES_ACCOUNT)


class GrantTerms(NamedTuple):
    """What a sentence says of an event's grant (the names of RemoteAccessGrant's fields,
    so that remote_access.timefmt reads either)."""

    duration: str
    expires_at: dt.datetime
    scope: str
    support_request_id: int | None


class EventFacts(NamedTuple):
    """Everything an event's sentence is rendered from, as plain values."""

    kind: str
    # The actor's full name and email; both None when the event has no actor.
    actor_name: str | None
    actor_email: str | None
    actor_team: str
    # The ticket of the event's visit; None when the event belongs to no visit.
    ticket: str | None
    grant: GrantTerms | None
    # The account's zone, which the grant's end is written in (None without a grant).
    zone: zoneinfo.ZoneInfo | None
    payload: dict
    method: str
    path: str
    result: int | None
    object_id: str
    object_label: str


def event_facts(event: AccessEvent) -> EventFacts:
    """The facts of an event fetched with `EVENT_RELATED`, or with the others and given its
    account (`selectors.with_sentences`): no query."""
    actor, grant, visit = event.actor, event.grant, event.session
    return EventFacts(
        kind=event.kind,
        actor_name=actor.full_name if actor else None,
        actor_email=actor.email if actor else None,
        actor_team=event.actor_team,
        ticket=visit.ticket_reference if visit else None,
        grant=(
            GrantTerms(grant.duration, grant.expires_at, grant.scope, grant.support_request_id)
            if grant
            else None
        ),
        # Read only with a grant, as before: an event without one needs no account.
        zone=event.account.tzinfo if grant else None,
        payload=event.payload,
        method=event.method,
        path=event.path,
        result=event.result,
        object_id=event.object_id,
        object_label=event.object_label,
    )


def _name(event: EventFacts) -> str:
    if event.actor_email is None:
        return _("Someone")
    return event.actor_name or event.actor_email


def _short_name(event: EventFacts) -> str:
    if event.actor_email is None:
        return _("Someone from support")
    return short_name(event.actor_name or "", event.actor_email)


def _visitor(event: EventFacts) -> str:
    team = Team(event.actor_team).label if event.actor_team in Team.values else _("support")
    return _("%(name)s from %(team)s") % {"name": _short_name(event), "team": team}


def visitor(event: AccessEvent) -> str:
    """ "Sam from Support": how the history names a representative."""
    return _visitor(event_facts(event))


def period_phrase(event: EventFacts) -> str:
    """How long the event's grant lasts, in the words of the Security tab, the mails and the
    banner (remote_access.timefmt), and its scope when it is view only."""
    grant = event.grant
    if grant is None:
        return ""
    until = grant_end_phrase(grant, event.zone)
    if grant.duration in (Duration.CUSTOM, Duration.UNTIL_RESOLVED):
        text = until
    else:
        text = _("for %(period)s (%(until)s)") % {
            "period": Duration(grant.duration).label,
            "until": until,
        }
    return text + scope_phrase(grant.scope)


def requested_period(payload: dict) -> str:
    """The period a request asked for (no grant exists yet)."""
    duration = payload.get("duration", "")
    if duration == Duration.CUSTOM and payload.get("last_day"):
        day = dt.date.fromisoformat(payload["last_day"])
        return _("until the end of %(day)s") % {"day": day_text(day)}
    return _("for %(period)s") % {"period": _label(Duration, duration)}


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def action_words(event: EventFacts) -> str:
    """What a representative's request did, in plain words: the view's own description, else
    the method and address."""
    words = event.payload.get("action")
    if words:
        return words
    return _("submitted %(method)s %(path)s") % {"method": event.method, "path": event.path}


def page_words(event: EventFacts) -> str:
    return event.object_label or event.path


def refusal_words(event: EventFacts) -> str:
    return _label(Capability, event.payload.get("capability", ""))


def _granted(event: EventFacts) -> str:
    text = _("%(name)s granted access %(period)s") % {
        "name": _name(event),
        "period": period_phrase(event),
    }
    # A grant "until request #N is resolved" names its request already.
    resolved = event.grant is not None and event.grant.duration == Duration.UNTIL_RESOLVED
    if event.payload.get("support_request") and not resolved:
        text += _(" with support request #%(number)s") % {
            "number": event.payload["support_request"]
        }
    return text


def _replaced(event: EventFacts) -> str:
    return _("%(name)s changed access: now %(period)s") % {
        "name": _name(event),
        "period": period_phrase(event),
    }


def _removed(event: EventFacts) -> str:
    return _("%(name)s removed access") % {"name": _name(event)}


def _expired(event: EventFacts) -> str:
    return _("Access expired")


def _visit_started(event: EventFacts) -> str:
    ticket = event.ticket or ""
    return _("%(visitor)s entered the account — ticket %(ticket)s") % {
        "visitor": _visitor(event),
        "ticket": ticket_label(ticket),
    }


def _visit_ended(event: EventFacts) -> str:
    reason = event.payload.get("reason", EndReason.EXIT)
    if reason == EndReason.EXIT:
        return _("%(visitor)s left the account") % {"visitor": _visitor(event)}
    return _("%(visitor)s's visit ended: %(reason)s") % {
        "visitor": _visitor(event),
        "reason": _label(EndReason, reason),
    }


def _page_viewed(event: EventFacts) -> str:
    return _("%(name)s opened %(page)s") % {"name": _short_name(event), "page": page_words(event)}


def _action_performed(event: EventFacts) -> str:
    if event.result is not None and event.result >= 400:
        return _("%(name)s sent %(method)s %(path)s — nothing was changed") % {
            "name": _short_name(event),
            "method": event.method,
            "path": event.path,
        }
    return _("%(name)s %(action)s") % {"name": _short_name(event), "action": action_words(event)}


def _action_blocked(event: EventFacts) -> str:
    return _("%(name)s tried to %(action)s — refused") % {
        "name": _short_name(event),
        "action": refusal_words(event),
    }


def _disabled(event: EventFacts) -> str:
    return _("%(vendor_staff)s turned remote access off: %(reason)s") % {
        "vendor_staff": _name(event),
        "reason": event.payload.get("reason", ""),
    }


def _enabled(event: EventFacts) -> str:
    return _("%(vendor_staff)s turned remote access back on") % {"vendor_staff": _name(event)}


def _asked(event: EventFacts) -> str:
    return _("%(name)s asked the Owners and Admins to grant access") % {"name": _name(event)}


def _requested(event: EventFacts) -> str:
    payload = event.payload
    return _("%(name)s asked for access %(period)s%(scope)s — ticket %(ticket)s: %(reason)s") % {
        "name": _name(event),
        "period": requested_period(payload),
        "scope": scope_phrase(payload.get("scope", "")),
        "ticket": ticket_label(event.object_label),
        "reason": payload.get("reason", ""),
    }


def _approved(event: EventFacts) -> str:
    return _("%(name)s approved %(staff)s's request (ticket %(ticket)s): access %(period)s") % {
        "name": _name(event),
        "staff": event.payload.get("requested_by", ""),
        "ticket": ticket_label(event.object_label),
        "period": period_phrase(event),
    }


def _denied(event: EventFacts) -> str:
    text = _("%(name)s denied %(staff)s's request for access (ticket %(ticket)s)") % {
        "name": _name(event),
        "staff": event.payload.get("requested_by", ""),
        "ticket": ticket_label(event.object_label),
    }
    reason = event.payload.get("deny_reason")
    return f"{text}: {reason}" if reason else text


def _resolved(event: EventFacts) -> str:
    text = _("%(name)s marked support request #%(number)s resolved") % {
        "name": _name(event),
        "number": event.object_id,
    }
    if event.payload.get("access_ended"):
        text += _("; the access granted until then has ended")
    return text


def _reopened(event: EventFacts) -> str:
    return _("%(name)s reopened support request #%(number)s; access is not restored") % {
        "name": _name(event),
        "number": event.object_id,
    }


WORDING: dict[str, Callable[[EventFacts], str]] = {
    Kind.ACCESS_ASKED: _asked,
    Kind.ACCESS_REQUESTED: _requested,
    Kind.ACCESS_APPROVED: _approved,
    Kind.ACCESS_DENIED: _denied,
    Kind.REQUEST_RESOLVED: _resolved,
    Kind.REQUEST_REOPENED: _reopened,
    Kind.GRANTED: _granted,
    Kind.REPLACED: _replaced,
    Kind.REMOVED: _removed,
    Kind.EXPIRED: _expired,
    Kind.SESSION_STARTED: _visit_started,
    Kind.SESSION_ENDED: _visit_ended,
    Kind.PAGE_VIEWED: _page_viewed,
    Kind.ACTION_PERFORMED: _action_performed,
    Kind.ACTION_BLOCKED: _action_blocked,
    Kind.REMOTE_ACCESS_DISABLED: _disabled,
    Kind.REMOTE_ACCESS_ENABLED: _enabled,
}


def sentence(facts: EventFacts) -> str:
    """The sentence a merchant reads for an event of these facts, in the active language."""
    return WORDING[facts.kind](facts)


def describe(event: AccessEvent) -> str:
    """The sentence a merchant reads for `event` (fetched as `event_facts` needs)."""
    return sentence(event_facts(event))
