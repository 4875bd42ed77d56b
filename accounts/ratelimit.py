"""Counting attempts in the cache (Redis in production, shared by every web process).

Fixed windows: simple, and for slowing down guessing and bursts of clicks, good enough.
"""

from collections.abc import Callable
from functools import wraps

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

TOO_MANY_CHANGES = _(
    "That was a lot of changes in a short time, so this one was not made. "
    "Wait a minute and try again."
)


def _key(scope: str, ident: str) -> str:
    return f"ratelimit:{scope}:{ident}"


def attempts(scope: str, ident: str) -> int:
    return cache.get(_key(scope, ident), 0)


def record_attempt(scope: str, ident: str, *, window: int) -> int:
    key = _key(scope, ident)
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def reset_attempts(scope: str, ident: str) -> None:
    cache.delete(_key(scope, ident))


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR as the server saw it; behind a proxy, configure the proxy to set it.
    return request.META.get("REMOTE_ADDR", "")


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
