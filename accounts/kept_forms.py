"""Forms inside kept fragments (`{% cache … using="fragments" %}`, CACHES["fragments"]).

A kept fragment is rendered once and served to everyone its key names. A CSRF token
rendered into it would be one person's token served to another, and one mask served on every
page, which is what masking is there to prevent (BREACH). So a form in a kept fragment
writes `{% kept_csrf_token %}` (accounts/templatetags/kept_forms.py): a placeholder, which
`KeptFormTokensMiddleware` replaces with this response's token as the page leaves.
"""

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

# Per process, as the fragments are; unguessable, so that nothing a person types can ask
# for somebody's token to be written where they chose.
TOKEN_PLACEHOLDER = f"kept-csrf-token-{secrets.token_hex(16)}"
_PLACEHOLDER = TOKEN_PLACEHOLDER.encode()


class KeptFormTokensMiddleware:
    """Writes this response's CSRF token where kept fragments left the placeholder: one
    masked token for the page, as `{% csrf_token %}` would give. Innermost in MIDDLEWARE, so
    that CsrfViewMiddleware, after it, sees the token used and sets its cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.streaming and _PLACEHOLDER in response.content:
            token = get_token(request).encode()
            response.content = response.content.replace(_PLACEHOLDER, token)
        return response
