"""Small request helpers every app uses."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, value: str | None, *, default: str) -> str:
    """`value` when it points at this site (same host, and https when the request is), else
    `default`: a `next` parameter never sends anyone elsewhere."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default
