"""A visit left open (a closed browser, another device) never locks its staff user out."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from remote_access.events import describe
from remote_access.models import AccessEvent, RepresentativeSession
from remote_access.services import visit_start
from tests.conftest import verify_two_factor
from tests.remote_access.factories import GrantFactory

EndReason = RepresentativeSession.EndReason


def enter(client, account, ticket):
    return client.post(
        reverse("admin:accounts_account_enter", args=[account.pk]), {"ticket_reference": ticket}
    )


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    verify_two_factor(client, user)
    return client


def test_second_browser__enters_and_the_first_is_sent_back_to_admin(account, owner, support_staff):
    """Two browsers of one staff user: the second enters; the first lands in admin on its
    next click; the history shows both visits, the first 'left without exiting'."""
    GrantFactory(account=account, granted_by=owner)
    first, second = browser_of(support_staff), browser_of(support_staff)
    assert enter(first, account, "4411").status_code == 302
    assert first.get("/").status_code == 200

    assert enter(second, account, "4412").status_code == 302
    assert second.get("/").status_code == 200

    response = first.get("/")
    assert response.status_code == 302
    assert response.url == reverse("admin:accounts_account_change", args=[account.pk])
    visits = list(RepresentativeSession.objects.order_by("started_at", "id"))
    assert [(v.ticket_reference, v.end_reason) for v in visits] == [
        ("4411", EndReason.ABANDONED),
        ("4412", ""),
    ]
    kinds = [
        (event.kind, describe(event))
        for event in AccessEvent.objects.filter(account=account).order_by("id")
        if event.kind != AccessEvent.Kind.PAGE_VIEWED
    ]
    assert kinds == [
        ("session_started", "Sam from Support entered the account — ticket #4411"),
        (
            "session_ended",
            "Sam from Support's visit ended: left without exiting, replaced by a new visit",
        ),
        ("session_started", "Sam from Support entered the account — ticket #4412"),
    ]


def test_visit_on_a_grant_no_longer_live__never_blocks_entering(
    account, other_account, owner, other_owner, support_staff
):
    """An open visit whose grant expired (beat down, browser closed) does not stop the same
    staff user entering another account."""
    grant = GrantFactory(account=account, granted_by=owner)
    stale = visit_start(account=account, staff_user=support_staff, ticket_reference="1")
    grant.granted_at -= dt.timedelta(days=30)
    grant.expires_at = grant.granted_at + dt.timedelta(days=1)
    grant.save()
    GrantFactory(account=other_account, granted_by=other_owner)

    assert enter(browser_of(support_staff), other_account, "2").status_code == 302
    stale.refresh_from_db()
    assert stale.end_reason == EndReason.ABANDONED
    assert RepresentativeSession.objects.filter(ended_at__isnull=True).get().account == (
        other_account
    )


@pytest.mark.parametrize("who", ["plain_staff", "merchant_owner"])
def test_visit_start__refuses_a_caller_without_the_permission(who, account, owner, db):
    """The service checks its caller itself, whatever the view did."""
    from accounts.errors import ApplicationError
    from tests.accounts.factories import StaffUserFactory

    GrantFactory(account=account, granted_by=owner)
    caller = StaffUserFactory() if who == "plain_staff" else owner
    with pytest.raises(ApplicationError, match="permission to enter"):
        visit_start(account=account, staff_user=caller, ticket_reference="1")
    assert not RepresentativeSession.objects.exists()


def test_admin__shows_own_open_visit_and_ends_it(account, owner, support_staff):
    """A visit left open in a browser that is gone shows on every admin page of its staff
    user, with End it."""
    GrantFactory(account=account, granted_by=owner)
    visit_start(account=account, staff_user=support_staff, ticket_reference="4411")
    elsewhere = browser_of(support_staff)
    page = elsewhere.get(reverse("admin:index"))
    assert "You have an open visit to Acme Store (ticket 4411" in page.content.decode()

    response = elsewhere.post(
        reverse("admin:accounts_account_end_own_visit"), {"next": "https://evil.test/"}
    )
    assert response.url == reverse("admin:index")
    visit = RepresentativeSession.objects.get()
    assert visit.end_reason == EndReason.EXIT
    assert "open visit" not in elsewhere.get(reverse("admin:index")).content.decode()


def test_admin__end_it_needs_post_and_staff(account, owner, support_staff, client_for):
    GrantFactory(account=account, granted_by=owner)
    visit_start(account=account, staff_user=support_staff, ticket_reference="1")
    url = reverse("admin:accounts_account_end_own_visit")
    assert browser_of(support_staff).get(url).status_code == 405
    assert client_for(owner).post(url).status_code == 403  # merchants never see admin
    assert RepresentativeSession.objects.get().ended_at is None
