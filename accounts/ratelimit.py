"""Counting attempts in the cache (Redis in production, shared by every web process).

Fixed windows: simple, and for slowing down guessing and bursts of clicks, good enough.

The cache is a convenience, never a reason to refuse or fail a request (DESIGN §5.9). When
it cannot be reached (down, or up but not answering within REDIS_TIMEOUT), counting moves
to this process's own memory for CACHE_RETRY_SECONDS and a warning is logged: the limits
get looser while it lasts, since each web process counts on its own, but they do not
disappear, and the action itself goes ahead. The database still guards every rule.
"""

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .crypto import token_hash

logger = logging.getLogger(__name__)

TOO_MANY_CHANGES = _(
    "That was a lot of changes in a short time, so this one was not made. "
    "Wait a minute and try again."
)
# After the cache fails once, this process counts in memory for this long before asking the
# cache again, so that a dead Redis costs one timeout per process and period, not one per
# request.
CACHE_RETRY_SECONDS = 10

_in_process = LocMemCache("ratelimit-in-process", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_cache_down_until = 0.0

T = TypeVar("T")


def _counting(operation: Callable[[BaseCache], T]) -> T:
    """Run `operation` on the shared cache or, while that is unreachable, on this process's."""
    global _cache_down_until
    if time.monotonic() < _cache_down_until:
        return operation(_in_process)
    try:
        return operation(cache)
    except Exception as error:  # any cache failure degrades the limit; none fails the request
        _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
        logger.warning(
            "Rate-limit cache unreachable (%s: %s); counting in this process for %s s.",
            type(error).__name__,
            error,
            CACHE_RETRY_SECONDS,
        )
        return operation(_in_process)


def in_process_counts_reset() -> None:
    """Forget the in-process counts and ask the shared cache again (for tests)."""
    global _cache_down_until
    _cache_down_until = 0.0
    _in_process.clear()


def _key(scope: str, ident: str) -> str:
    # The identifier may be whatever someone typed (an email at sign-in): hashed, the key is
    # short and plain whatever it holds.
    return f"ratelimit:{scope}:{token_hash(ident)[:32]}"


def attempts(scope: str, ident: str) -> int:
    return _counting(lambda store: store.get(_key(scope, ident), 0))


def record_attempt(scope: str, ident: str, *, window: int) -> int:
    key = _key(scope, ident)

    def increment(store: BaseCache) -> int:
        store.add(key, 0, timeout=window)
        try:
            return store.incr(key)
        except ValueError:  # expired between add and incr
            store.set(key, 1, timeout=window)
            return 1

    return _counting(increment)


def reset_attempts(scope: str, ident: str) -> None:
    _counting(lambda store: store.delete(_key(scope, ident)))


def post_over_limit(request: HttpRequest, scope: str, *, limit: int, window: int = 60) -> bool:
    """Count this POST; True once a signed-in person has sent more than `limit` per window."""
    return (
        request.method == "POST"
        and request.user.is_authenticated
        and record_attempt(scope, str(request.user.pk), window=window) > limit
    )


def rate_limited_response(request: HttpRequest) -> HttpResponse:
    return render(request, "rate_limited.html", {"message": TOO_MANY_CHANGES}, status=429)


def limit_posts(scope: str, *, limit: int, window: int = 60) -> Callable:
    """Answer 429 when a signed-in person sends more than `limit` POSTs here per window."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if post_over_limit(request, scope, limit=limit, window=window):
                return rate_limited_response(request)
            return view(request, *args, **kwargs)

        return limited

    return decorator
