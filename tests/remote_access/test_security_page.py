import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from remote_access.events import describe
from remote_access.models import AccessEvent, RemoteAccessGrant
from remote_access.services import GRANT_CHANGED_MEANWHILE, NOTHING_TO_REMOVE, REMOTE_ACCESS_OFF
from remote_access.timefmt import grant_end_phrase
from remote_access.views import ACCESS_REMOVED, ACCESS_SAVED
from tests.accounts.factories import UserFactory
from tests.remote_access.factories import AccessEventFactory, GrantFactory

SECURITY = reverse("remote_access:security")
Status = RemoteAccessGrant.Status


def remove_url(grant):
    return reverse("remote_access:grant_remove", args=[grant.pk])


def grant_state(account):
    return list(account.remote_access_grants.order_by("pk").values_list("status", flat=True))


# --- who may do what -------------------------------------------------------------------

PERSONAS = [
    ("owner", True),
    ("admin", True),
    ("manager", False),
    ("analyst", False),
    ("other_owner", False),
]


@pytest.mark.parametrize(("persona", "allowed"), PERSONAS)
def test_grant__role_matrix(persona, allowed, request, client_for, account):
    client = client_for(request.getfixturevalue(persona))
    response = client.post(SECURITY, {"duration": "7d"})
    if allowed:
        assert response.status_code == 302
        assert grant_state(account) == [Status.ACTIVE]
        assert account.access_events.get().kind == AccessEvent.Kind.GRANTED
    else:
        # Members of another account act in their own account, never in this one.
        assert response.status_code in (302, 403)
        assert grant_state(account) == []
        assert not account.access_events.exists()


@pytest.mark.parametrize(("persona", "allowed"), PERSONAS)
def test_replace__role_matrix(persona, allowed, request, client_for, account, owner):
    current = GrantFactory(account=account, granted_by=owner)
    client = client_for(request.getfixturevalue(persona))
    client.post(SECURITY, {"duration": "30d", "current_grant": current.pk})
    if allowed:
        assert grant_state(account) == [Status.REPLACED, Status.ACTIVE]
        assert account.access_events.get().kind == AccessEvent.Kind.REPLACED
    else:
        assert grant_state(account) == [Status.ACTIVE]
        assert not account.access_events.exists()


@pytest.mark.parametrize(("persona", "allowed"), PERSONAS)
def test_remove__role_matrix(persona, allowed, request, client_for, account, owner):
    grant = GrantFactory(account=account, granted_by=owner)
    response = client_for(request.getfixturevalue(persona)).post(remove_url(grant))
    if allowed:
        assert response.status_code == 302
        assert grant_state(account) == [Status.REVOKED]
    else:
        # Another account's grant does not exist for them: 404. Same account, wrong role: 403.
        assert response.status_code == (404 if persona == "other_owner" else 403)
        assert grant_state(account) == [Status.ACTIVE]


@pytest.mark.parametrize(("persona", "allowed"), PERSONAS)
def test_history_export__role_matrix(persona, allowed, request, client_for, account):
    AccessEventFactory(account=account, summary="Olivia Owner granted access for 7 days")
    response = client_for(request.getfixturevalue(persona)).get(
        reverse("remote_access:history_export")
    )
    if persona == "other_owner":
        # They download their own account's (empty) history, never this one.
        body = b"".join(response.streaming_content).decode()
        assert "Olivia Owner" not in body
    elif allowed:
        body = b"".join(response.streaming_content).decode()
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "Olivia Owner granted access for 7 days" in body
    else:
        assert response.status_code == 403


def test_anonymous__refused_everywhere(client, account, owner):
    grant = GrantFactory(account=account, granted_by=owner)
    for method, url in (
        ("post", SECURITY),
        ("post", remove_url(grant)),
        ("get", reverse("remote_access:history_export")),
    ):
        response = getattr(client, method)(url, {"duration": "7d"})
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    assert grant_state(account) == [Status.ACTIVE]


# --- what the page shows ---------------------------------------------------------------


def test_page__no_access_shows_choices_and_save(owner_client):
    body = owner_client.get(SECURITY).content.decode()
    assert 'id="remote-access"' in body
    assert "Latchkey Remote Access" in body
    for label in ("1 day", "7 days", "30 days", "90 days", "Custom date"):
        assert f"<span>{label}</span>" in body
    assert ">Save</button>" in body
    assert ">Remove</button>" not in body
    assert "No access" in body


def test_page__vendor_name_comes_from_settings(owner_client, settings):
    settings.VENDOR_NAME = "Shopkeep"
    assert "Shopkeep Remote Access" in owner_client.get(SECURITY).content.decode()


def test_page__live_grant_shows_who_when_and_remove(owner_client, account, owner):
    granted_at = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
    GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=granted_at,
        expires_at=granted_at + dt.timedelta(days=30),
    )
    body = owner_client.get(SECURITY).content.decode()
    assert "Olivia Owner (owner@acme.test)" in body
    # America/New_York: 15:00 UTC is 10:00 EST.
    assert "Fri 20 Nov 2026, 10:00 EST" in body
    assert "Sun 20 Dec 2026, 10:00 EST" in body
    assert ">Remove</button>" in body
    assert "<dialog" in body


@pytest.mark.parametrize("persona", ["manager", "analyst"])
def test_page__read_only_roles_see_status_without_controls(persona, request, client_for, account):
    owner = request.getfixturevalue("owner")
    GrantFactory(account=account, granted_by=owner)
    body = client_for(request.getfixturevalue(persona)).get(SECURITY).content.decode()
    assert "Only Owners and Admins can grant or remove access." in body
    assert "Olivia Owner (owner@acme.test)" in body
    assert ">Save</button>" not in body
    assert ">Remove</button>" not in body
    assert 'name="duration"' not in body


def test_page__turned_off_shows_notice_and_refuses_posts(owner_client, account):
    account.remote_access_disabled = True
    account.save()
    body = owner_client.get(SECURITY).content.decode()
    assert "Contact support to turn it back on." in body
    assert 'name="duration"' not in body
    response = owner_client.post(SECURITY, {"duration": "7d"})
    assert response.status_code == 403
    assert str(REMOTE_ACCESS_OFF) in response.content.decode().replace("&#x27;", "'")
    assert grant_state(account) == []


def test_page__expired_but_untidied_grant_is_not_live(owner_client, account, owner):
    """Liveness is decided by the clock, not by whether the beat task has run yet."""
    GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=timezone.now() - dt.timedelta(days=2),
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    body = owner_client.get(SECURITY).content.decode()
    assert "No access" in body
    assert ">Remove</button>" not in body


# --- granting, replacing, removing -----------------------------------------------------


@pytest.mark.parametrize(("duration", "days"), [("1d", 1), ("7d", 7), ("30d", 30), ("90d", 90)])
def test_grant__duration_counts_from_saving(owner_client, account, duration, days, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 7, 12, 30, tzinfo=dt.UTC), tick=False)
    response = owner_client.post(SECURITY, {"duration": duration}, follow=True)
    grant = account.remote_access_grants.get()
    assert grant.expires_at == dt.datetime(2026, 3, 7, 12, 30, tzinfo=dt.UTC) + dt.timedelta(
        days=days
    )
    assert grant.duration == duration
    assert str(ACCESS_SAVED) in response.content.decode()
    assert response.redirect_chain[-1][0].endswith("#remote-access")


def test_grant__writes_readable_event_and_mails_owners_and_admins(
    owner_client, account, owner, admin, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(SECURITY, {"duration": "7d"})
    event = account.access_events.get()
    until = grant_end_phrase(account.remote_access_grants.get())
    assert describe(event) == f"Olivia Owner granted access for 7 days ({until})"
    assert event.actor == owner
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["admin@acme.test", "owner@acme.test"]
    assert mail.outbox[0].subject == "Latchkey support can now access Acme Store"
    assert mail.outbox[0].alternatives[0][1] == "text/html"
    assert "/grant-access" in mail.outbox[0].body


def test_replace__old_grant_kept_as_replaced(owner_client, account, owner):
    current = GrantFactory(account=account, granted_by=owner)
    owner_client.post(SECURITY, {"duration": "90d", "current_grant": current.pk})
    current.refresh_from_db()
    assert current.status == Status.REPLACED
    assert current.ended_by == owner
    new = account.remote_access_grants.get(status=Status.ACTIVE)
    assert new.duration == "90d"
    summary = describe(account.access_events.get())
    assert summary == f"Olivia Owner changed access: now for 90 days ({grant_end_phrase(new)})"


def test_grant__double_submit_changes_nothing_the_second_time(owner_client, account):
    first = owner_client.post(SECURITY, {"duration": "7d", "current_grant": ""})
    second = owner_client.post(SECURITY, {"duration": "7d", "current_grant": ""}, follow=True)
    assert first.status_code == 302
    assert grant_state(account) == [Status.ACTIVE]
    assert account.access_events.count() == 1
    assert str(GRANT_CHANGED_MEANWHILE) in second.content.decode().replace("&#x27;", "'")


def test_grant__tampered_current_grant_of_other_account_changes_nothing(
    owner_client, account, other_account, other_owner
):
    foreign = GrantFactory(account=other_account, granted_by=other_owner)
    owner_client.post(SECURITY, {"duration": "7d", "current_grant": foreign.pk})
    assert grant_state(account) == []
    foreign.refresh_from_db()
    assert foreign.status == Status.ACTIVE


def test_remove__confirmation_page_without_javascript(owner_client, account, owner):
    grant = GrantFactory(account=account, granted_by=owner)
    response = owner_client.get(remove_url(grant))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Remove support access?" in body
    assert ">Remove</button>" in body
    assert grant_state(account) == [Status.ACTIVE]


def test_remove__ends_access_now_and_logs_it(owner_client, account, owner):
    grant = GrantFactory(account=account, granted_by=owner)
    response = owner_client.post(remove_url(grant), follow=True)
    grant.refresh_from_db()
    assert grant.status == Status.REVOKED
    assert grant.ended_by == owner
    assert grant.ended_at is not None
    assert str(ACCESS_REMOVED) in response.content.decode()
    assert describe(account.access_events.get()) == "Olivia Owner removed access"


def test_remove__mails_owners_and_admins(
    owner_client, account, owner, admin, django_capture_on_commit_callbacks
):
    grant = GrantFactory(account=account, granted_by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(remove_url(grant))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Latchkey support access to Acme Store was removed"
    assert "Olivia Owner removed Latchkey support access" in mail.outbox[0].body


def test_remove__twice_says_nothing_to_remove(owner_client, account, owner):
    grant = GrantFactory(account=account, granted_by=owner)
    owner_client.post(remove_url(grant))
    response = owner_client.post(remove_url(grant), follow=True)
    assert str(NOTHING_TO_REMOVE) in response.content.decode()
    assert account.access_events.count() == 1


def test_remove__another_accounts_grant_is_404(owner_client, other_account, other_owner):
    foreign = GrantFactory(account=other_account, granted_by=other_owner)
    assert owner_client.post(remove_url(foreign)).status_code == 404
    assert owner_client.get(remove_url(foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == Status.ACTIVE


def test_post_without_csrf_token__refused(owner, account):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(SECURITY, {"duration": "7d"})
    assert response.status_code == 403
    assert grant_state(account) == []


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "duration", "Choose how long support may have access."),
        ({"duration": "2d"}, "duration", "Choose one of the periods offered."),
        ({"duration": "<script>"}, "duration", "Choose one of the periods offered."),
        ({"duration": "custom"}, "last_day", "Pick the last day of access"),
        ({"duration": "custom", "last_day": "2026-11-29"}, "last_day", "from tomorrow on"),
        ({"duration": "custom", "last_day": "2026-01-01"}, "last_day", "from tomorrow on"),
        ({"duration": "custom", "last_day": "2027-11-30"}, "last_day", "at most 365 days"),
        ({"duration": "custom", "last_day": "next tuesday"}, "last_day", "YYYY-MM-DD"),
        ({"duration": "custom", "last_day": "2026-02-30"}, "last_day", "YYYY-MM-DD"),
        ({"duration": "7d", "current_grant": "abc"}, "current_grant", "whole number"),
    ],
)
def test_grant__bad_input_is_a_form_error_keeping_input(
    owner_client, account, data, field, message, time_machine
):
    # 2026-11-29 14:00 in New York.
    time_machine.move_to(dt.datetime(2026, 11, 29, 19, 0, tzinfo=dt.UTC), tick=False)
    response = owner_client.post(SECURITY, data)
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    if "last_day" in data:
        assert f'value="{data["last_day"]}"' in response.content.decode()
    assert grant_state(account) == []
    assert not account.access_events.exists()


def test_grant__custom_date_at_the_bounds_is_accepted(owner, owner_client, account, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 29, 19, 0, tzinfo=dt.UTC), tick=False)
    owner_client.force_login(owner)  # signed in just now: no sudo prompt for a year's grant
    owner_client.post(SECURITY, {"duration": "custom", "last_day": "2027-11-29"})
    assert account.remote_access_grants.get().expires_at == dt.datetime(
        2027, 11, 30, 5, 0, tzinfo=dt.UTC
    )


def test_grant__non_custom_duration_ignores_last_day(owner_client, account):
    owner_client.post(SECURITY, {"duration": "1d", "last_day": "garbage"})
    assert grant_state(account) == []  # a malformed date is still reported, not ignored


# --- /grant-access ---------------------------------------------------------------------


def test_grant_access_link__logs_in_and_lands_on_the_section(owner, client):
    response = client.get("/grant-access")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/grant-access"
    from tests.accounts.factories import PASSWORD

    response = client.post(response.url, {"username": owner.email, "password": PASSWORD})
    assert response.url == "/grant-access"
    response = client.get(response.url)
    assert response.url == "/settings/security/#remote-access"


def test_grant_access_link__any_member_lands_on_security(analyst, client_for):
    assert client_for(analyst).get("/grant-access").url == "/settings/security/#remote-access"


# --- history ---------------------------------------------------------------------------


def test_history__newest_first_paginated_by_25_with_a_cursor(owner_client, account):
    base = timezone.now() - dt.timedelta(days=1)
    for n in range(30):
        AccessEventFactory(
            account=account, summary=f"event {n}", created_at=base + dt.timedelta(minutes=n)
        )
    first = owner_client.get(SECURITY)
    summaries = [event.payload["action"] for event in first.context["history"].items]
    assert summaries[0] == "event 29"
    assert len(summaries) == 25
    older = first.context["history"].older
    assert f"?before={older}" in first.content.decode()
    second = owner_client.get(SECURITY + f"?before={older}")
    assert [event.payload["action"] for event in second.context["history"].items] == [
        f"event {n}" for n in range(4, -1, -1)
    ]
    assert second.context["history"].older is None
    garbage = owner_client.get(SECURITY + "?before=abc")
    assert garbage.status_code == 200
    assert len(garbage.context["history"].items) == 25


def test_history__other_accounts_events_never_shown(owner_client, other_account):
    AccessEventFactory(account=other_account, summary="Greta granted access")
    assert "Greta granted access" not in owner_client.get(SECURITY).content.decode()


def test_history__summary_is_escaped(owner_client, account):
    AccessEventFactory(account=account, summary="<script>alert(1)</script>")
    body = owner_client.get(SECURITY).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_history_export__cells_that_look_like_formulas_are_defused(owner_client, account):
    AccessEventFactory(account=account, actor=UserFactory(full_name="=HYPERLINK(evil)"))
    body = b"".join(owner_client.get(reverse("remote_access:history_export")).streaming_content)
    assert b"'=HYPERLINK(evil)" in body


def test_security_page__constant_queries_whatever_the_history(
    owner_client, account, owner, django_assert_num_queries
):
    GrantFactory(account=account, granted_by=owner)

    from django.core.cache import caches

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        caches["fragments"].clear()  # the history rendered afresh, not kept
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(SECURITY).status_code == 200
        return len(captured)

    count_queries()  # the session's first page here costs a round trip more (accounts.sessions)
    empty = count_queries()
    AccessEvent.objects.bulk_create(
        AccessEvent(account=account, kind="granted", payload={"n": n}) for n in range(1000)
    )
    caches["fragments"].clear()
    with django_assert_num_queries(empty):
        assert owner_client.get(SECURITY).status_code == 200
