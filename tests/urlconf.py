"""The merchant site's URL conf, walked by the tests that must cover every view."""

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Views anyone may reach without an account: signing in and out, resetting a password.
PUBLIC = {
    "healthz",
    "readyz",
    "admin_login_redirect",
    "accounts:login",
    "accounts:login_verify",
    "accounts:invitation_accept",
    "accounts:logout",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    # Guarded by a private API key instead of a sign-in (remote_access/api.py).
    "remote_access:api_access_events",
}


def merchant_views() -> list[tuple[str, URLPattern]]:
    """Every named view of the merchant site (everything outside /admin/)."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, inner or namespace)
            elif pattern.name:
                found.append(
                    (f"{namespace}:{pattern.name}" if namespace else pattern.name, pattern)
                )

    walk(get_resolver().url_patterns, "")
    return found


def url_kwargs(pattern: URLPattern, samples: dict) -> dict:
    """The keyword arguments a pattern takes, filled from `samples` (name → value)."""
    return {name: samples[name] for name in pattern.pattern.converters}


def merchant_urls(samples: dict) -> list[str]:
    """The address of every merchant view behind a sign-in whose arguments `samples` fills."""
    urls = []
    for name, pattern in merchant_views():
        if name in PUBLIC:
            continue
        try:
            urls.append(reverse(name, kwargs=url_kwargs(pattern, samples)))
        except KeyError:
            continue
    return urls
