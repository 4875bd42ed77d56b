"""`GET /api/v1/access-events`: the access history for the merchant's security tools.

Authenticated by one of the account's private API keys (`Authorization: Bearer lk_…`) that
has the `access_events:read` scope; JSON in and out, errors included. See docs/api.md.
"""

import datetime as dt

from django.http import HttpRequest, JsonResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.authorization import public
from accounts.models import ApiKey, ApiScope
from accounts.ratelimit import record_attempt
from accounts.services.integrations import api_key_check

from .history import event_record_fields
from .models import AccessEvent
from .selectors import API_PAGE_SIZE, access_events_api_page

# A security tool polls; a loop gone wrong should not crowd out the site.
API_REQUESTS_PER_MINUTE = 60


def _error(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _authenticated(request: HttpRequest) -> ApiKey | JsonResponse:
    scheme, _space, key = request.headers.get("Authorization", "").partition(" ")
    api_key = api_key_check(key=key.strip()) if scheme.lower() == "bearer" and key else None
    if api_key is None:
        message = _("Send a live API key: Authorization: Bearer <key>.")
        return _error(401, message, **{"WWW-Authenticate": 'Bearer realm="api"'})
    if not api_key.allows(ApiScope.ACCESS_EVENTS_READ):
        return _error(403, _("This key may not read the access history (access_events:read)."))
    if record_attempt("api-access-events", str(api_key.pk), window=60) > API_REQUESTS_PER_MINUTE:
        return _error(429, _("Too many requests: wait a minute."), **{"Retry-After": "60"})
    return api_key


class _BadQuery(ValueError):
    pass


def _moment(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None or moment.tzinfo is None:
        raise _BadQuery(_("Times are ISO 8601 with a zone, e.g. 2026-01-31T10:00:00Z."))
    return moment


def _filters(request: HttpRequest) -> dict:
    query = request.GET
    kinds = [kind for value in query.getlist("kind") for kind in value.split(",") if kind]
    if set(kinds) - set(AccessEvent.Kind.values):
        raise _BadQuery(_("Unknown kind. Known kinds: %s.") % ", ".join(AccessEvent.Kind.values))
    after = query.get("after")
    if after is not None and not after.isdigit():
        raise _BadQuery(_("`after` is the `next` value of the previous page."))
    limit = query.get("limit", str(API_PAGE_SIZE))
    if not limit.isdigit() or not 1 <= int(limit) <= API_PAGE_SIZE:
        raise _BadQuery(_("`limit` is a number from 1 to %d.") % API_PAGE_SIZE)
    return {
        "after": int(after) if after else None,
        "kinds": kinds,
        "since": _moment(query.get("since")),
        "until": _moment(query.get("until")),
        "limit": int(limit),
    }


@public  # the API key is the guard (_authenticated)
@require_http_methods(["GET"])
def access_events(request: HttpRequest) -> JsonResponse:
    api_key = _authenticated(request)
    if isinstance(api_key, JsonResponse):
        return api_key
    try:
        filters = _filters(request)
    except _BadQuery as error:
        return _error(400, str(error))
    account = api_key.account
    events = access_events_api_page(account=account, **filters)
    full = len(events) == filters["limit"]
    return JsonResponse(
        {
            "events": [event_record_fields(event, account=account) for event in events],
            "next": str(events[-1].pk) if full else None,
        }
    )
