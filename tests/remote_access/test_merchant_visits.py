"""The merchant is told when support enters, sees them inside, and ends the visit."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership
from accounts.roles import Role
from outbox.services import outbox_drain
from remote_access.models import AccessEvent, RemoteAccessGrant, RepresentativeSession
from tests.accounts.factories import MembershipFactory
from tests.conftest import verify_two_factor
from tests.remote_access.factories import GrantFactory

EndReason = RepresentativeSession.EndReason
NOTICE = "Latchkey Support (Sam) is in your account now · ticket 4411"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    verify_two_factor(client, user)
    return client


def enter(staff_user, account) -> Client:
    staff = login(staff_user)
    url = reverse("admin:accounts_account_enter", args=[account.pk])
    assert staff.post(url, {"ticket_reference": "4411"}).status_code == 302
    return staff


@pytest.fixture
def grant(account, owner):
    return GrantFactory(account=account, granted_by=owner)


@pytest.fixture
def inside(grant, account, support_staff):
    """Sam from Support inside Acme Store on ticket 4411."""
    return enter(support_staff, account)


def visit():
    return RepresentativeSession.objects.get()


def visit_mails():
    outbox_drain()
    return [m for m in mail.outbox if "entered" in m.subject]


def escape_link(message) -> str:
    return re.search(r"https?://\S+/settings/security/end/\S+/", message.body).group(0)


# --- the mail when support enters ---------------------------------------------------------


def test_visit_start_mail__owners_and_admins_only_not_who_turned_it_off(
    grant, account, owner, admin, manager, analyst, support_staff
):
    quiet = MembershipFactory(account=account, role=Role.ADMIN, user__email="quiet@acme.test")
    login(quiet.user).post(reverse("accounts:visit_mails"), {"on": "0"})
    assert Membership.objects.get(pk=quiet.pk).visit_mails is False
    enter(support_staff, account)
    (message,) = visit_mails()
    assert sorted(message.to) == ["admin@acme.test", "owner@acme.test"]
    assert message.subject == "Sam from Latchkey Support entered Acme Store"
    assert "ticket 4411" in message.body
    assert "End this visit and remove access" in message.alternatives[0][0]


def test_escape_link__needs_sign_in_works_once_and_only_for_its_account(
    inside, account, grant, owner, other_owner
):
    link = escape_link(visit_mails()[0]).removeprefix(settings.SITE_URL.rstrip("/"))
    anonymous = Client().get(link)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("accounts:login"))
    # Another account's Owner: the link names nothing there.
    foreign = login(other_owner)
    assert foreign.post(link).status_code == 410
    assert visit().ended_at is None
    owner_client = login(owner)
    page = owner_client.get(link)
    assert "End this visit and remove access" in page.content.decode()
    assert visit().ended_at is None  # GET changes nothing
    assert owner_client.post(link).status_code == 302
    assert visit().end_reason == EndReason.ENDED_BY_MERCHANT
    grant.refresh_from_db()
    assert grant.status == RemoteAccessGrant.Status.REVOKED
    # Works once: nothing is left for it to do.
    assert owner_client.post(link).status_code == 410
    assert "Nothing left to end" in owner_client.get(link).content.decode()


def test_escape_link__expires_with_the_visit(inside, account, owner, time_machine):
    link = escape_link(visit_mails()[0]).removeprefix(settings.SITE_URL.rstrip("/"))
    time_machine.move_to(
        visit().started_at + settings.REPRESENTATIVE_SESSION_MAX_AGE + dt.timedelta(seconds=1)
    )
    assert login(owner).post(link).status_code == 410
    assert visit().ended_at is None


def test_escape_link__tampered_token_names_nothing(inside, owner):
    url = reverse("remote_access:escape", args=["eyJhIjoxfQ:forged:sig"])
    assert login(owner).post(url).status_code == 410


def test_grant_mail__says_remove_access_now_with_a_link_that_works(
    owner, admin, account, django_capture_on_commit_callbacks
):
    owner_client = login(owner)
    owner_client.post(reverse("remote_access:security"), {"duration": "7d"})
    outbox_drain()
    (message,) = [m for m in mail.outbox if "can now access" in m.subject]
    assert "If you did not expect this, remove access now" in message.body
    link = escape_link(message).removeprefix(settings.SITE_URL.rstrip("/"))
    assert login(admin).post(link).status_code == 302
    assert account.remote_access_grants.get().status == RemoteAccessGrant.Status.REVOKED


# --- the live notice and End visit ----------------------------------------------------------


def test_notice__every_merchant_page_while_support_is_inside(inside, owner, manager):
    owner_page = login(owner).get(reverse("audience:segments")).content.decode()
    assert NOTICE in owner_page
    assert ">End visit</button>" in owner_page
    manager_page = login(manager).get(reverse("audience:segments")).content.decode()
    assert NOTICE in manager_page
    assert ">End visit</button>" not in manager_page


def test_notice__gone_once_the_visit_ends(inside, owner):
    inside.post(reverse("remote_access:representative_exit"))
    assert NOTICE not in login(owner).get(reverse("audience:segments")).content.decode()


def test_notice__costs_one_query(grant, account, owner, support_staff):
    owner_client = login(owner)
    url = reverse("audience:segments")
    owner_client.get(url)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            owner_client.get(url)
        return len(captured)

    before = queries()
    enter(support_staff, account)
    assert queries() <= before + 1


def test_end_visit__representative_refused_on_next_request_lands_in_admin(inside, owner, account):
    owner_client = login(owner)
    url = reverse("remote_access:visit_end", args=[visit().pk])
    assert "End this support visit?" in owner_client.get(url).content.decode()
    response = owner_client.post(url, follow=True)
    assert "The support visit has ended" in response.content.decode()
    assert "Support still has access" in response.content.decode()
    assert visit().end_reason == EndReason.ENDED_BY_MERCHANT
    next_click = inside.get(reverse("audience:segments"), follow=True)
    assert next_click.redirect_chain[0][0] == reverse(
        "admin:accounts_account_change", args=[account.pk]
    )
    assert "has ended: ended by the merchant" in next_click.content.decode()
    event = AccessEvent.objects.get(kind=AccessEvent.Kind.SESSION_ENDED)
    assert event.payload == {"reason": "ended_by_merchant"}


def test_end_visit__with_remove_access_ends_the_grant_too(inside, owner, grant):
    url = reverse("remote_access:visit_end", args=[visit().pk])
    login(owner).post(url, {"remove_access": "1"})
    grant.refresh_from_db()
    assert grant.status == RemoteAccessGrant.Status.REVOKED


@pytest.mark.parametrize("persona", ["manager", "analyst"])
def test_end_visit__managers_and_analysts_cannot(inside, persona, request):
    url = reverse("remote_access:visit_end", args=[visit().pk])
    assert login(request.getfixturevalue(persona)).post(url).status_code == 403
    assert visit().ended_at is None


def test_end_visit__another_accounts_visit_is_404(inside, other_owner):
    url = reverse("remote_access:visit_end", args=[visit().pk])
    assert login(other_owner).post(url).status_code == 404
    assert visit().ended_at is None
