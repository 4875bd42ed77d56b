"""What the Security tab tells people: the outcome of Save and Remove in the panel, the
current period pre-selected, whom a Manager can ask (and the ask itself), and how to turn
remote access off for good."""

import datetime as dt
import html
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from remote_access.events import describe
from remote_access.models import AccessEvent
from remote_access.services import access_ask
from remote_access.services.asking import ASK_GRANT_YOURSELF, ASKED_RECENTLY
from remote_access.timefmt import grant_end_phrase
from tests.accounts.factories import MembershipFactory
from tests.remote_access.factories import GrantFactory

SECURITY = reverse("remote_access:security")
ASK = reverse("remote_access:ask_for_access")


def _text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def _panel(response) -> str:
    """The Remote Access panel of the page, where outcomes belong."""
    body = _text(response)
    return body.split('id="remote-access"', 1)[1].split('id="access-history"', 1)[0]


# --- outcomes where the person is looking ------------------------------------------------


def test_save__outcome_in_the_panel_restates_the_result(owner_client, account):
    """After the redirect to #remote-access the first thing in the panel says what Save did."""
    response = owner_client.post(SECURITY, {"duration": "30d"}, follow=True)
    grant = account.remote_access_grants.get()
    assert response.redirect_chain[-1][0].endswith("#remote-access")
    panel = _panel(response)
    until = grant_end_phrase(grant)
    assert re.search(
        rf'data-outcome="success" tabindex="-1"><p>Support access saved\. Latchkey support can '
        rf"access Acme Store {re.escape(until)}, [^.<]+ from now\.</p>",
        panel,
    ), panel[:800]
    assert 'class="messages"' not in _text(response), "not at the top of the page as well"


def test_change__outcome_says_how_the_new_end_compares(owner_client, account, owner):
    current = GrantFactory(
        account=account, granted_by=owner, expires_at=timezone.now() + dt.timedelta(days=7)
    )
    response = owner_client.post(
        SECURITY, {"duration": "1d", "current_grant": current.pk}, follow=True
    )
    assert "The new end is 6 days shorter than now." in _panel(response)


def test_remove__outcome_in_the_panel(owner_client, account, owner):
    grant = GrantFactory(account=account, granted_by=owner)
    url = reverse("remote_access:grant_remove", args=[grant.pk])
    response = owner_client.post(url, follow=True)
    assert "Support access removed. Support can no longer enter your account." in _panel(response)


def test_refusal__outcome_in_the_panel_as_an_error(owner_client, account, owner):
    """A Save that lost a race says so in the panel, marked as an error (role=alert by JS)."""
    GrantFactory(account=account, granted_by=owner)
    response = owner_client.post(SECURITY, {"duration": "7d"}, follow=True)
    assert 'data-outcome="error"' in _panel(response)
    assert "changed while you were on this page" in _panel(response)


# --- change with foresight -----------------------------------------------------------------


def test_change__current_period_is_preselected(owner_client, account, owner):
    GrantFactory(account=account, granted_by=owner, duration="30d")
    body = owner_client.get(SECURITY).content.decode()
    assert re.search(r'<input type="radio" name="duration" value="30d"[^>]*checked', body)


def test_change__custom_grant_preselects_its_last_day(owner_client, account, owner):
    # Midnight after 24 Dec in New York: the last day is the 24th, not the 25th.
    expires = dt.datetime(2027, 12, 25, 5, 0, tzinfo=dt.UTC)
    GrantFactory(account=account, granted_by=owner, duration="custom", expires_at=expires)
    body = owner_client.get(SECURITY).content.decode()
    assert re.search(r'<input type="radio" name="duration" value="custom"[^>]*checked', body)
    assert 'value="2027-12-24"' in body


def test_grant__nothing_preselected_without_access(owner_client, account):
    body = owner_client.get(SECURITY).content.decode()
    assert not re.search(r'name="duration"[^>]*checked', body)


def test_contact_form__never_preselects_a_grant(owner_client, account, owner):
    GrantFactory(account=account, granted_by=owner, duration="30d")
    body = owner_client.get(reverse("remote_access:contact")).content.decode()
    assert re.search(r'name="duration" value=""[^>]*checked', body)


# --- Managers and Analysts see whom to ask, and ask -----------------------------------------


@pytest.mark.parametrize("persona", ["manager", "analyst"])
def test_reader__sees_the_owners_and_admins_and_the_ask_button(
    persona, request, client_for, account, owner, admin
):
    body = _text(client_for(request.getfixturevalue(persona)).get(SECURITY))
    assert "Olivia Owner (owner@acme.test)" in body
    assert "Adam Admin (admin@acme.test)" in body
    assert "Ask them to grant access" in body


def test_owner__is_not_offered_the_ask(owner_client, account):
    assert "Ask them to grant access" not in owner_client.get(SECURITY).content.decode()


def test_ask__mails_owners_and_admins_only_once_per_click_and_records_it(
    client_for, account, owner, admin, manager, analyst, django_capture_on_commit_callbacks
):
    """One mail to the Owners and Admins (not to other Managers or Analysts), one row in the
    history, and the outcome in the panel."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post(ASK, follow=True)
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["admin@acme.test", "owner@acme.test"]
    assert "Maya Manager asks you to grant Latchkey support access" in mail.outbox[0].subject
    assert "/grant-access" in mail.outbox[0].body
    event = account.access_events.get()
    assert event.kind == AccessEvent.Kind.ACCESS_ASKED
    assert event.actor == manager
    assert describe(event) == "Maya Manager asked the Owners and Admins to grant access"
    assert "Your ask was sent to the Owners and Admins of Acme Store." in _panel(response)
    assert "Maya Manager asked the Owners and Admins to grant access" in _text(response)


def test_ask__rate_limited_per_person(
    client_for, account, owner, manager, analyst, django_capture_on_commit_callbacks
):
    """A second click within the interval sends nothing and says why; someone else may ask."""
    with django_capture_on_commit_callbacks(execute=True):
        client_for(manager).post(ASK)
        again = client_for(manager).post(ASK, follow=True)
    assert len(mail.outbox) == 1
    assert str(ASKED_RECENTLY) in _panel(again)
    assert 'data-outcome="error"' in _panel(again)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(analyst).post(ASK)
    assert len(mail.outbox) == 2
    assert account.access_events.filter(kind=AccessEvent.Kind.ACCESS_ASKED).count() == 2


def test_ask__allowed_again_after_the_interval(
    client_for, account, owner, manager, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(timezone.now(), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(manager).post(ASK)
    time_machine.shift(dt.timedelta(minutes=16))
    with django_capture_on_commit_callbacks(execute=True):
        client_for(manager).post(ASK)
    assert len(mail.outbox) == 2


def test_ask__owner_is_told_to_grant_instead(owner_client, account, owner):
    response = owner_client.post(ASK, follow=True)
    assert str(ASK_GRANT_YOURSELF) in _panel(response)
    assert not account.access_events.exists()


def test_ask__another_accounts_member_is_refused(account, other_account, other_owner):
    from accounts.actors import MemberActor
    from accounts.authorization import CapabilityMissing

    foreign = MemberActor.for_membership(user=other_owner, account=other_account, role=Role.OWNER)
    with pytest.raises(CapabilityMissing):
        access_ask(account=account, actor=foreign)


def test_ask__no_owner_or_admin_left_still_records_without_mail(
    client_for, account, django_capture_on_commit_callbacks
):
    manager = MembershipFactory(account=account, role=Role.MANAGER).user
    with django_capture_on_commit_callbacks(execute=True):
        client_for(manager).post(ASK)
    assert mail.outbox == []


# --- turning remote access off for good -----------------------------------------------------


def test_security_tab__says_how_to_turn_it_off_for_good(owner_client, account):
    body = html.unescape(owner_client.get(SECURITY).content.decode())
    assert "Turning remote access off for good" in body
    link = re.search(r'href="(/help/contact/\?[^"]+)">Ask support to turn it off for good', body)
    assert link, "a link to the contact form"
    form = owner_client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert 'value="Turn remote access off for good"' in form
    assert '<option value="success" selected>' in form
    assert "Please turn remote access off for good" in form


def test_security_tab__shows_the_state_when_off(owner_client, account):
    account.remote_access_disabled = True
    account.save(update_fields=["remote_access_disabled"])
    body = _text(owner_client.get(SECURITY))
    assert "Turned off" in body
    assert "Remote access is off for this account" in body
    assert "Ask support to turn it back on" in body


def test_contact_prefill__ignores_an_unknown_team(owner_client, account):
    body = owner_client.get(reverse("remote_access:contact") + "?team=hackers").content.decode()
    assert '<option value="support" selected>' in body


# --- small things ---------------------------------------------------------------------------


def test_history__no_download_while_empty(owner_client, account, owner):
    assert "Download CSV" not in owner_client.get(SECURITY).content.decode()
    GrantFactory(account=account, granted_by=owner)
    owner_client.post(
        reverse("remote_access:grant_remove", args=[account.remote_access_grants.get().pk])
    )
    assert "Download CSV" in owner_client.get(SECURITY).content.decode()


def test_representative__not_invited_to_contact_or_ask(account, owner, support_staff, client_for):
    GrantFactory(account=account, granted_by=owner)
    desk = client_for(support_staff)
    entered = desk.post(
        reverse("admin:accounts_account_enter", args=[account.pk]), {"ticket_reference": "1"}
    )
    assert entered.status_code == 302
    home = desk.get("/").content.decode()
    assert "Contact support" not in home
    security = desk.get(SECURITY).content.decode()
    assert "Ask them to grant access" not in security
    assert "Ask support to turn it off for good" not in security


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_ask__two_clicks_at_once_record_and_mail_once():
    """The rate limit is read under the account's row lock: a double click asks once."""
    from accounts.actors import MemberActor
    from accounts.errors import ApplicationError
    from tests.accounts.factories import AccountFactory
    from tests.remote_access.test_database_invariants import _run_at_once

    account = AccountFactory()
    MembershipFactory(account=account, role=Role.OWNER)
    manager = MembershipFactory(account=account, role=Role.MANAGER).user
    actor = MemberActor.for_membership(user=manager, account=account, role=Role.MANAGER)
    outcomes = _run_at_once([lambda: access_ask(account=account, actor=actor)] * 3)
    asked = [o for o in outcomes if isinstance(o, AccessEvent)]
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert (len(asked), len(refused)) == (1, 2), outcomes
    assert AccessEvent.objects.filter(account=account).count() == 1
    assert len(mail.outbox) == 1
