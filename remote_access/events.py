"""The words of the access history: one sentence per kind, rendered from an event's facts.

Rows hold facts only (DESIGN §4, STYLE 16), so whoever wrote a row — a service, the visit
middleware or the expiry sweep's SQL — the merchant reads the same sentence, in their
language. Callers fetch events with `EVENT_RELATED` so that rendering costs no query.
"""

import datetime as dt
from collections.abc import Callable
from functools import lru_cache

from django.utils import formats
from django.utils.translation import get_language, gettext

from accounts.roles import Capability
from accounts.timefmt import DAY_FORMAT

from .models import AccessEvent, Duration, RepresentativeSession, Team
from .timefmt import grant_end_phrase
from .wording import scope_phrase, ticket_label


@lru_cache(maxsize=512)
def _translated(language: str | None, message: str) -> str:
    return gettext(message)


def _(message: str) -> str:
    """gettext, remembered per language: an export renders a million sentences from a few
    dozen messages, and a lookup each time was a third of its cost."""
    return _translated(get_language(), message)


Kind = AccessEvent.Kind
EndReason = RepresentativeSession.EndReason

# What `describe` reads besides the row itself.
EVENT_RELATED = ("account", "actor", "grant", "session")


def _name(event: AccessEvent) -> str:
    if event.actor is None:
        return _("Someone")
    return event.actor.full_name or event.actor.email


def _short_name(event: AccessEvent) -> str:
    if event.actor is None:
        return _("Someone from support")
    return event.actor.get_short_name()


def visitor(event: AccessEvent) -> str:
    """ "Sam from Support": how the history names a representative."""
    team = Team(event.actor_team).label if event.actor_team in Team.values else _("support")
    return _("%(name)s from %(team)s") % {"name": _short_name(event), "team": team}


def period_phrase(event: AccessEvent) -> str:
    """How long the event's grant lasts, in the words of the Security tab, the mails and the
    banner (remote_access.timefmt), and its scope when it is view only."""
    grant = event.grant
    if grant is None:
        return ""
    until = grant_end_phrase(grant, event.account.tzinfo)
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
        return _("until the end of %(day)s") % {"day": formats.date_format(day, DAY_FORMAT)}
    return _("for %(period)s") % {"period": _label(Duration, duration)}


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def action_words(event: AccessEvent) -> str:
    """What a representative's request did, in plain words: the view's own description, else
    the method and address."""
    words = event.payload.get("action")
    if words:
        return words
    return _("submitted %(method)s %(path)s") % {"method": event.method, "path": event.path}


def page_words(event: AccessEvent) -> str:
    return event.object_label or event.path


def refusal_words(event: AccessEvent) -> str:
    return _label(Capability, event.payload.get("capability", ""))


def _granted(event: AccessEvent) -> str:
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


def _replaced(event: AccessEvent) -> str:
    return _("%(name)s changed access: now %(period)s") % {
        "name": _name(event),
        "period": period_phrase(event),
    }


def _removed(event: AccessEvent) -> str:
    return _("%(name)s removed access") % {"name": _name(event)}


def _expired(event: AccessEvent) -> str:
    return _("Access expired")


def _visit_started(event: AccessEvent) -> str:
    ticket = event.session.ticket_reference if event.session else ""
    return _("%(visitor)s entered the account — ticket %(ticket)s") % {
        "visitor": visitor(event),
        "ticket": ticket_label(ticket),
    }


def _visit_ended(event: AccessEvent) -> str:
    reason = event.payload.get("reason", EndReason.EXIT)
    if reason == EndReason.EXIT:
        return _("%(visitor)s left the account") % {"visitor": visitor(event)}
    return _("%(visitor)s's visit ended: %(reason)s") % {
        "visitor": visitor(event),
        "reason": _label(EndReason, reason),
    }


def _page_viewed(event: AccessEvent) -> str:
    return _("%(name)s opened %(page)s") % {"name": _short_name(event), "page": page_words(event)}


def _action_performed(event: AccessEvent) -> str:
    if event.result is not None and event.result >= 400:
        return _("%(name)s sent %(method)s %(path)s — nothing was changed") % {
            "name": _short_name(event),
            "method": event.method,
            "path": event.path,
        }
    return _("%(name)s %(action)s") % {"name": _short_name(event), "action": action_words(event)}


def _action_blocked(event: AccessEvent) -> str:
    return _("%(name)s tried to %(action)s — refused") % {
        "name": _short_name(event),
        "action": refusal_words(event),
    }


def _disabled(event: AccessEvent) -> str:
    return _("%(vendor_staff)s turned remote access off: %(reason)s") % {
        "vendor_staff": _name(event),
        "reason": event.payload.get("reason", ""),
    }


def _enabled(event: AccessEvent) -> str:
    return _("%(vendor_staff)s turned remote access back on") % {"vendor_staff": _name(event)}


def _asked(event: AccessEvent) -> str:
    return _("%(name)s asked the Owners and Admins to grant access") % {"name": _name(event)}


def _requested(event: AccessEvent) -> str:
    payload = event.payload
    return _("%(name)s asked for access %(period)s%(scope)s — ticket %(ticket)s: %(reason)s") % {
        "name": _name(event),
        "period": requested_period(payload),
        "scope": scope_phrase(payload.get("scope", "")),
        "ticket": ticket_label(event.object_label),
        "reason": payload.get("reason", ""),
    }


def _approved(event: AccessEvent) -> str:
    return _("%(name)s approved %(staff)s's request (ticket %(ticket)s): access %(period)s") % {
        "name": _name(event),
        "staff": event.payload.get("requested_by", ""),
        "ticket": ticket_label(event.object_label),
        "period": period_phrase(event),
    }


def _denied(event: AccessEvent) -> str:
    text = _("%(name)s denied %(staff)s's request for access (ticket %(ticket)s)") % {
        "name": _name(event),
        "staff": event.payload.get("requested_by", ""),
        "ticket": ticket_label(event.object_label),
    }
    reason = event.payload.get("deny_reason")
    return f"{text}: {reason}" if reason else text


def _resolved(event: AccessEvent) -> str:
    text = _("%(name)s marked support request #%(number)s resolved") % {
        "name": _name(event),
        "number": event.object_id,
    }
    if event.payload.get("access_ended"):
        text += _("; the access granted until then has ended")
    return text


def _reopened(event: AccessEvent) -> str:
    return _("%(name)s reopened support request #%(number)s; access is not restored") % {
        "name": _name(event),
        "number": event.object_id,
    }


WORDING: dict[str, Callable[[AccessEvent], str]] = {
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


def describe(event: AccessEvent) -> str:
    """The sentence a merchant reads for `event`, in the active language."""
    return WORDING[event.kind](event)
