"""Events are facts, rendered when read: whoever writes a kind, the row and its sentence are
the same (DESIGN §4)."""

import datetime as dt

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from accounts.actors import MemberActor
from accounts.roles import Role
from outbox.models import OutboxMessage
from remote_access.events import EVENT_RELATED, WORDING, describe
from remote_access.models import AccessEvent, RepresentativeSession
from remote_access.services import (
    access_grant,
    access_remove,
    remote_access_disable,
    remote_access_enable,
    visit_end,
    visit_start,
)
from remote_access.services.expiry import _expire_batch_portable, _expire_batch_sql
from remote_access.timefmt import grant_end_phrase
from tests.accounts.factories import AccountFactory, MembershipFactory, StaffUserFactory
from tests.remote_access.factories import GrantFactory, csm_user

Kind = AccessEvent.Kind
EXPIRES = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
SWEEP_START = (dt.datetime(1970, 1, 1, tzinfo=dt.UTC), 0)


def facts(event: AccessEvent) -> dict:
    """The row without what necessarily differs between two accounts: ids."""
    row = model_to_dict(event, exclude=["id", "account", "grant", "session", "actor"])
    row["created_at"] = event.created_at
    row["has"] = (event.grant_id is not None, event.session_id is not None, event.actor_id)
    return row


def rendered(event: AccessEvent) -> str:
    return describe(AccessEvent.objects.select_related(*EVENT_RELATED).get(pk=event.pk))


def expired_visit(staff, *, name: str) -> RepresentativeSession:
    """An account whose grant ran out at EXPIRES while `staff` was inside."""
    account = AccountFactory(name=name)
    owner = MembershipFactory(account=account, role=Role.OWNER).user
    grant = GrantFactory(
        account=account,
        granted_by=owner,
        granted_at=EXPIRES - dt.timedelta(days=7),
        expires_at=EXPIRES,
    )
    return RepresentativeSession.objects.create(
        staff_user=staff,
        account=account,
        grant=grant,
        team="support",
        ticket_reference="4411",
        started_at=EXPIRES - dt.timedelta(hours=1),
    )


def test_every_kind_has_one_wording():
    assert set(WORDING) == set(Kind.values)


@pytest.mark.services
@pytest.mark.parametrize("kind", [Kind.EXPIRED, Kind.SESSION_ENDED])
def test_expiry__sweep_sql_and_python_write_the_same_facts_and_words(db, kind):
    """The sweep's SQL (PostgreSQL), its portable twin and, for a visit, `visit_end` agree."""
    staff = StaffUserFactory(full_name="Sam Support")
    by_sql = expired_visit(staff, name="A")
    _expire_batch_sql(now=EXPIRES, limit=10, grant_id=by_sql.grant_id, after=SWEEP_START)
    by_python = expired_visit(staff, name="B")
    _expire_batch_portable(now=EXPIRES, limit=10, grant_id=by_python.grant_id, after=SWEEP_START)
    written = [AccessEvent.objects.get(account=v.account, kind=kind) for v in (by_sql, by_python)]
    if kind == Kind.SESSION_ENDED:
        by_service = expired_visit(staff, name="C")
        visit_end(visit=by_service, reason=RepresentativeSession.EndReason.EXPIRED, at=EXPIRES)
        written.append(AccessEvent.objects.get(account=by_service.account, kind=kind))
    assert len({str(facts(event)) for event in written}) == 1, [facts(e) for e in written]
    sentences = {rendered(event) for event in written}
    expected = (
        "Access expired"
        if kind == Kind.EXPIRED
        else "Sam from Support's visit ended: access expired"
    )
    assert sentences == {expected}


@pytest.mark.services
def test_expiry__sweep_sql_writes_the_notice_the_outbox_service_writes(db):
    """The sweep's SQL writes each "access has ended" row inside its own statement; the row
    is the one `outbox_enqueue_rendered_later` writes for the same grant."""
    staff = StaffUserFactory()
    by_sql = expired_visit(staff, name="A")
    _expire_batch_sql(now=EXPIRES, limit=10, grant_id=by_sql.grant_id, after=SWEEP_START)
    by_python = expired_visit(staff, name="B")
    _expire_batch_portable(now=EXPIRES, limit=10, grant_id=by_python.grant_id, after=SWEEP_START)
    notices = [
        OutboxMessage.objects.get(kind="access_expired", payload__grant_id=visit.grant_id)
        for visit in (by_sql, by_python)
    ]
    rows = [
        model_to_dict(notice, exclude=["id", "payload", "next_attempt_at", "created_at"])
        for notice in notices
    ]
    assert rows[0] == rows[1]
    assert [set(notice.payload) for notice in notices] == [{"grant_id"}, {"grant_id"}]
    assert [notice.next_attempt_at == notice.created_at for notice in notices] == [True, True]


def _grant(account, owner):
    actor = MemberActor.for_membership(user=owner, account=account, role=Role.OWNER)
    return actor, access_grant(account=account, actor=actor, duration="7d")


def test_service_kinds__facts_and_sentences(account, owner, support_staff):
    """Each service writes its kind's facts; the sentence comes from them alone."""
    actor, grant = _grant(account, owner)
    access_grant(account=account, actor=actor, duration="30d", expected_current_grant_id=grant.pk)
    visit = visit_start(account=account, staff_user=support_staff, ticket_reference="4411")
    visit_end(visit=visit, reason=RepresentativeSession.EndReason.EXIT)
    live = account.remote_access_grants.get(status="active")
    access_remove(account=account, actor=actor, grant_id=live.pk)
    csm = csm_user()
    remote_access_disable(account=account, staff_user=csm, reason="asked by the owner")
    remote_access_enable(account=account, staff_user=csm)
    events = list(AccessEvent.objects.filter(account=account).order_by("id"))
    assert [(e.kind, e.actor_role, e.actor_team) for e in events] == [
        (Kind.GRANTED, "owner", ""),
        (Kind.REPLACED, "owner", ""),
        (Kind.SESSION_STARTED, "", "support"),
        (Kind.SESSION_ENDED, "", "support"),
        (Kind.REMOVED, "owner", ""),
        (Kind.REMOTE_ACCESS_DISABLED, "", "success"),
        (Kind.REMOTE_ACCESS_ENABLED, "", "success"),
    ]
    names = (owner.full_name, support_staff.get_short_name(), csm.full_name)
    ends = [grant_end_phrase(e.grant) for e in events[:2]]
    assert [rendered(e) for e in events] == [
        f"{names[0]} granted access for 7 days ({ends[0]})",
        f"{names[0]} changed access: now for 30 days ({ends[1]})",
        f"{names[1]} from Support entered the account — ticket #4411",
        f"{names[1]} from Support left the account",
        f"{names[0]} removed access",
        f"{names[2]} turned remote access off: asked by the owner",
        f"{names[2]} turned remote access back on",
    ]


@pytest.fixture
def inside(account, owner, support_staff, client_for):
    """Sam from Support inside Acme Store on ticket 4411."""
    GrantFactory(account=account, granted_by=owner)
    staff = client_for(support_staff)
    enter = reverse("admin:accounts_account_enter", args=[account.pk])
    assert staff.post(enter, {"ticket_reference": "4411"}).status_code == 302
    return staff


def test_middleware_kinds__facts_and_sentences(inside, account):
    """Pages, changes and refusals written by the visit middleware carry the request's facts."""
    inside.get("/settings/")
    inside.post("/settings/", {"name": "Acme Shop", "timezone": "UTC"})
    inside.post(reverse("remote_access:security"), {"duration": "90d"})
    visit = RepresentativeSession.objects.get()
    events = list(
        AccessEvent.objects.filter(session=visit).exclude(kind__startswith="session").order_by("id")
    )
    assert [(e.kind, e.method, e.path, e.result, e.actor_team) for e in events] == [
        (Kind.PAGE_VIEWED, "GET", "/settings/", 200, "support"),
        (Kind.ACTION_PERFORMED, "POST", "/settings/", 302, "support"),
        (Kind.ACTION_BLOCKED, "", "", 403, "support"),
    ]
    assert [rendered(e) for e in events] == [
        "Sam opened Settings",
        "Sam changed the account settings (name, time zone)",
        "Sam tried to grant or remove support access — refused",
    ]


def test_sentence_follows_the_language_of_the_reader(account, owner):
    """Rendered when read: the same row reads in the reader's language (translatable)."""
    from django.utils import translation

    _grant(account, owner)
    event = AccessEvent.objects.get(account=account)
    with translation.override("en"):
        assert rendered(event).endswith(
            f"granted access for 7 days ({grant_end_phrase(event.grant)})"
        )
