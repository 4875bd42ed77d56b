"""Per-request work is done once: the current account, the role and the account menu come
from one query, not one in the middleware and another in the template."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from tests.accounts.factories import MembershipFactory


def test_signed_in_page__memberships_read_once(owner, other_account, client_for):
    MembershipFactory(account=other_account, user=owner, role=Role.ANALYST)
    client = client_for(owner)
    client.get(reverse("accounts:home"))  # warm: the session is saved once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("accounts:home"))
    assert response.status_code == 200
    assert [a.name for a in response.context["other_accounts"]] == ["Globex"]
    membership_queries = [q for q in queries if '"accounts_membership"' in q["sql"]]
    assert len(membership_queries) == 1
