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

from .models import AccessEvent, Duration, RepresentativeSession, Team


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
EVENT_RELATED = ("actor", "grant", "session")


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


def ticket_label(reference: str) -> str:
    return f"#{reference}" if reference.isdigit() else reference


def period_phrase(event: AccessEvent) -> str:
    grant = event.grant
    if grant is None:
        return ""
    if grant.duration == Duration.CUSTOM:
        last_day = (
            grant.expires_at.astimezone(event.account.tzinfo) - dt.timedelta(seconds=1)
        ).date()
        return _("until the end of %(day)s") % {"day": formats.date_format(last_day, "DATE_FORMAT")}
    return _("for %(period)s") % {"period": Duration(grant.duration).label}


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
    if event.payload.get("support_request"):
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


WORDING: dict[str, Callable[[AccessEvent], str]] = {
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
