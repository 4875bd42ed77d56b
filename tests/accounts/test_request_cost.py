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
    assert len(queries) == 1, "the session and everyone's reads about the user"
    assert 'FROM "django_session"' in reads_of_people[0]


def test_a_user_without_memberships_still_signs_in(client, support_staff):
    """Staff have no membership: the backend reads the user alone."""
    client.force_login(support_staff)
    response = client.get(reverse("accounts:home"))
    assert response.wsgi_request.user == support_staff


def page_queries(client, path: str = "/") -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return [q["sql"] for q in queries]


@pytest.mark.usefixtures("round_trips_counted")
def test_a_session_this_process_has_not_seen_takes_a_second_round_trip(owner, client_for):
    """The user's id is in the session's signed data: without a guess from an earlier
    request, the user is read after the session."""
    from accounts.sessions import forget_held_sessions

    client = client_for(owner)
    client.get("/")
    forget_held_sessions()
    queries = page_queries(client)
    assert len(queries) == 2
    assert 'FROM "django_session"' in queries[0]
    assert 'FROM "accounts_user"' in queries[1]


@pytest.mark.usefixtures("round_trips_counted")
def test_the_security_tab_is_one_round_trip(owner, account, client_for):
    """Its own reads (grant, requests, newest event) come with the session and the user, for
    the account the session holds: the first page after signing in keeps the account it
    shows, as switching does."""
    from accounts.middleware import SESSION_ACCOUNT_KEY

    client = client_for(owner)
    assert SESSION_ACCOUNT_KEY not in client.session
    security = reverse("remote_access:security")
    client.get(security)
    # (Not looking at the session in between: loading it here would tell this process what
    # it holds, which the page that kept the account must have done itself.)
    queries = page_queries(client, security)
    assert len(queries) == 1
    assert 'FROM "remote_access_remoteaccessgrant"' in queries[0]
    assert client.session[SESSION_ACCOUNT_KEY] == account.pk


def test_the_account_kept_follows_a_membership_that_ended(
    owner, account, other_account, client_for
):
    """A session holding an account its user left acts in another, and keeps that one."""
    from accounts.middleware import SESSION_ACCOUNT_KEY
    from accounts.models import Membership

    MembershipFactory(account=other_account, user=owner, role=Role.OWNER)
    client = client_for(owner)
    client.post(reverse("accounts:switch", args=[other_account.pk]))
    Membership.objects.filter(user=owner, account=other_account).delete()
    client.get("/")
    assert client.session[SESSION_ACCOUNT_KEY] == account.pk


def test_a_guess_from_what_the_session_held_before_is_dropped_when_it_changed(
    owner, account, other_account, client_for
):
    """Switching accounts changes what the session holds: the Security tab read ahead for
    the old account is not used for the new one."""
    from tests.remote_access.factories import GrantFactory

    MembershipFactory(account=other_account, user=owner, role=Role.OWNER)
    GrantFactory(account=other_account, granted_by=owner)
    client = client_for(owner)
    security = reverse("remote_access:security")
    client.post(reverse("accounts:switch", args=[account.pk]))
    assert "No access" in client.get(security).content.decode()
    client.post(reverse("accounts:switch", args=[other_account.pk]))
    html = client.get(security).content.decode()
    assert "Globex" in html
    assert "Access is on" in html


def test_what_is_read_ahead_is_as_fresh_as_the_session(owner, client_for):
    """The user is read in the session's own round trip: a password changed or an account
    switched off since the last request signs the session out at once."""
    client = client_for(owner)
    assert client.get("/").status_code == 200
    owner.set_password("a new long passphrase 42")
    owner.save()
    assert client.get("/").status_code == 302

    client = client_for(owner)
    assert client.get("/").status_code == 200
    owner.is_active = False
    owner.save()
    assert client.get("/").status_code == 302


def test_a_session_ended_elsewhere_is_not_signed_in_by_its_guess(owner, client_for):
    from django.contrib.sessions.models import Session

    client = client_for(owner)
    assert client.get("/").status_code == 200
    Session.objects.all().delete()  # signed out everywhere, by another process
    response = client.get("/")
    assert response.status_code == 302
    assert response.wsgi_request.user.is_anonymous


def test_reads_made_from_an_outdated_guess_are_never_used(owner, account, client_for):
    """What the session held when this process last loaded it is only a guess: the reads
    made from it are used only if the session, once loaded, asks for exactly the same."""
    from django.test import RequestFactory

    from accounts import backends, sessions
    from accounts.middleware import SESSION_ACCOUNT_KEY

    client = client_for(owner)
    client.post(reverse("accounts:switch", args=[account.pk]))
    client.get("/")  # this process now holds what the session holds
    key = client.session.session_key
    held = sessions._HELD[key]

    def plan(guess: dict):
        """Plan a Security tab request on this session, with `guess` as what it held."""
        sessions._HELD[key] = guess
        request = RequestFactory().get(reverse("remote_access:security"))
        request.session = sessions.SessionStore(key)
        token = backends.plan_reads(request)
        try:
            return request.session, backends._planned.get()
        finally:
            backends.reset_planned_reads(token)

    session, planned = plan(held)
    assert session._read_ahead is not None
    assert planned.results is not None, "a right guess saves the second round trip"

    session, planned = plan({**held, SESSION_ACCOUNT_KEY: account.pk + 1000})
    assert session._read_ahead is not None, "reads were made from the outdated guess"
    assert planned.results is None, "and dropped: the user's reads run again"


def test_the_guesses_kept_are_the_sessions_loaded_most_recently(monkeypatch):
    from accounts import sessions

    monkeypatch.setattr(sessions, "HELD_KEPT", 2)
    monkeypatch.setattr(sessions, "_HELD", {})
    for key in ("a", "b", "a", "c"):
        sessions._remember(key, {"_auth_user_id": key})
    assert list(sessions._HELD) == ["a", "c"], "b, loaded least recently, made room"


def test_the_request_carries_the_user_itself_not_a_proxy(owner, client_for):
    """accounts.middleware.PlainUserMiddleware: the user, not Django's and django-otp's lazy
    proxies around it, with what django-otp puts on it still there."""
    from django.utils.functional import LazyObject

    response = client_for(owner).get(reverse("accounts:home"))
    user = response.wsgi_request.user
    assert not isinstance(user, LazyObject)
    assert type(user) is type(owner)
    assert user.pk == owner.pk
    assert user.is_verified() is False, "django-otp's verification is on the user"


def test_a_visitor_signed_out_carries_the_anonymous_user(client):
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import LazyObject

    response = client.get(reverse("accounts:login"))
    assert not isinstance(response.wsgi_request.user, LazyObject)
    assert isinstance(response.wsgi_request.user, AnonymousUser)


def test_resolved_sets_up_nested_proxies_once():
    from django.utils.functional import SimpleLazyObject

    from accounts.middleware import resolved

    made = []
    inner = SimpleLazyObject(lambda: made.append("inner") or {"a": 1})
    outer = SimpleLazyObject(lambda: inner)
    assert resolved(outer) == {"a": 1}
    assert made == ["inner"]
    assert resolved(42) == 42


def test_a_page_does_not_walk_the_layout_to_find_its_blocks(owner_client, monkeypatch):
    """templates/document.html: Django's {% extends %} searches the root template's whole node
    tree for blocks on every render (the blocks of a template that extends another are found
    once, when it is compiled). base.html extends a one-block root, so a page searches that
    one block, not base.html's 160 nodes."""
    from django.template.base import Node, NodeList

    home = reverse("accounts:home")
    owner_client.get(home)  # templates compiled and kept
    searched = []
    for cls in (Node, NodeList):
        original = cls.get_nodes_by_type

        def counting(self, nodetype, original=original):
            searched.append(self)
            return original(self, nodetype)

        monkeypatch.setattr(cls, "get_nodes_by_type", counting)
    assert owner_client.get(home).status_code == 200
    assert 0 < len(searched) <= 5


def test_in_staff_admin_follows_the_script_prefix_and_the_urls(rf):
    """accounts.http.in_staff_admin keeps the admin's address (a namespaced reverse costs
    28 µs, asked on every staff request) per URL conf and script prefix."""
    from django.urls import set_script_prefix

    from accounts.http import in_staff_admin

    assert in_staff_admin(rf.get("/admin/accounts/account/"))
    assert not in_staff_admin(rf.get("/settings/security/"))
    try:
        set_script_prefix("/latchkey/")
        assert in_staff_admin(rf.get("/latchkey/admin/"))
        assert not in_staff_admin(rf.get("/admin/"))
    finally:
        set_script_prefix("/")


@pytest.mark.urls("tests.urlconf_without_admin")
def test_in_staff_admin_under_urls_where_the_admin_lives_elsewhere(rf):
    from accounts.http import in_staff_admin

    assert in_staff_admin(rf.get("/staff-only/"))
    assert not in_staff_admin(rf.get("/admin/"))


def test_every_layout_pages_extend_is_rooted_in_a_one_block_template(settings):
    """The class of the walk above: whatever template of ours a page extends, the chain ends
    in a root with next to no nodes, because Django searches the root's whole tree on every
    render. A new layout written as a root fails here."""
    import re
    from pathlib import Path

    from django.template import Node
    from django.template.loader import get_template
    from django.template.loader_tags import ExtendsNode

    ours = Path(settings.BASE_DIR) / "templates"
    extended = {
        name
        for path in ours.rglob("*.html")
        for name in re.findall(r'{%\s*extends\s+"([^"]+)"', path.read_text())
    }
    roots = set()
    for name in extended:
        template = get_template(name).template
        history = [template.origin]
        # As ExtendsNode finds a parent: a template may extend one of the same name elsewhere.
        while template.nodelist.get_nodes_by_type(ExtendsNode):
            (extends,) = template.nodelist.get_nodes_by_type(ExtendsNode)
            template, _origin = template.engine.find_template(extends.parent_name.var, skip=history)
            history.append(template.origin)
        if Path(template.origin.name).is_relative_to(ours):
            roots.add(template)
    assert {Path(root.origin.name).name for root in roots} == {"document.html"}
    for root in roots:
        assert len(root.nodelist.get_nodes_by_type(Node)) <= 3, root.origin.name
