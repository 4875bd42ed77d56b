"""Per-request work is done once: the current account, the role and the account menu come
from one query, not one in the middleware and another in the template."""

import pytest
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
    membership_queries = [q for q in queries if 'FROM "accounts_membership"' in q["sql"]]
    assert len(membership_queries) == 1


@pytest.mark.usefixtures("round_trips_counted")
def test_signed_in_page__user_and_memberships_in_one_query(owner, other_account, client_for):
    """The backend loads the signed-in user with their memberships, in one round trip
    (accounts.backends): one statement batch names both tables."""
    MembershipFactory(account=other_account, user=owner, role=Role.ANALYST)
    client = client_for(owner)
    client.get(reverse("accounts:home"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("accounts:home")).status_code == 200
    reads_of_people = [
        q["sql"]
        for q in queries
        if 'FROM "accounts_user"' in q["sql"] or 'FROM "accounts_membership"' in q["sql"]
    ]
    assert len(reads_of_people) == 1
    assert 'FROM "accounts_membership"' in reads_of_people[0]
    assert 'FROM "accounts_user"' in reads_of_people[0]
    assert len(queries) == 2, "the session, then everyone's reads about the user"


def test_a_user_without_memberships_still_signs_in(client, support_staff):
    """Staff have no membership: the backend reads the user alone."""
    client.force_login(support_staff)
    response = client.get(reverse("accounts:home"))
    assert response.wsgi_request.user == support_staff
