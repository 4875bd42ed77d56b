"""The one-click escape hatch in mails: "End this visit and remove access" / "remove access
now". A signed token names the account and the visit or grant; it opens a confirmation page
that needs sign-in as an Owner or Admin of that account, and it stops working once the visit
or the grant has ended (so it works once) or when the visit's longest life has passed."""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "remote_access.escape_link"
# A grant lasts at most 365 days (DESIGN §5.4): its link cannot outlive it.
GRANT_LINK_MAX_AGE = dt.timedelta(days=366)


def escape_token(*, account_id: int, visit_id: int | None = None, grant_id: int | None = None):
    return signing.dumps({"a": account_id, "v": visit_id, "g": grant_id}, salt=SALT, compress=True)


def escape_url(*, account_id: int, visit_id: int | None = None, grant_id: int | None = None):
    token = escape_token(account_id=account_id, visit_id=visit_id, grant_id=grant_id)
    path = reverse("remote_access:escape", args=[token])
    return settings.SITE_URL.rstrip("/") + path


def escape_token_read(token: str) -> dict | None:
    """The token's {"a", "v", "g"}, or None when forged, altered or too old. A visit's link
    lives as long as a visit may (REPRESENTATIVE_SESSION_MAX_AGE)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=GRANT_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("v") is not None:
        try:
            signing.loads(token, salt=SALT, max_age=settings.REPRESENTATIVE_SESSION_MAX_AGE)
        except signing.BadSignature:
            return None
    return data
