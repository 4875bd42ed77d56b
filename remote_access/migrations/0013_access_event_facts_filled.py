"""Fill the facts of the events written before events were stored as facts (0010).

The old rows carried a sentence; the facts below come from the rows they name (the visit's
team and end reason, the grant's support request, the member's role) and, for the few
kinds whose words were the only record (a representative's action or refusal, the reason
remote access was turned off), from the sentence itself. After this, 0012 drops the
sentences: every row is rendered from its facts.

The table is append-only (0002): its row trigger is switched off for this one rewrite, in
this migration's transaction, and on again before it commits.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery

TRIGGER = "remote_access_event_no_update_delete"
TABLE = "remote_access_accessevent"
BATCH = 1000

# English labels at the time of the old sentences, for turning refusals back into facts.
CAPABILITY_LABELS = {
    "see this account": "view_account",
    "change the account's settings": "edit_settings",
    "create or edit segments": "edit_segments",
    "grant or remove support access": "manage_remote_access",
    "download the access history": "export_access_history",
    "contact support": "contact_support",
    "change the billing plan": "change_plan",
    "import data": "import_data",
    "invite, change or remove team members": "manage_users",
    "reset a member's two-factor authentication": "reset_mfa",
    "see or change integrations and API keys": "manage_integrations",
    "change whether two-factor sign-in is required": "set_mfa_policy",
    "delete the account": "delete_account",
    "change the account's owner": "transfer_ownership",
}


def _after(text: str, marker: str) -> str:
    return text.split(marker, 1)[1] if marker in text else ""


def _action_facts(event) -> dict:
    words = event.summary
    short = event.actor.full_name.split(" ")[0] if event.actor else ""
    if short and words.startswith(short + " "):
        words = words[len(short) + 1 :]
    if words.startswith("submitted /"):
        return {"method": "POST", "path": words.removeprefix("submitted ")[:300], "payload": {}}
    return {"method": "POST", "payload": {"action": words}}


def _text_facts(event) -> dict | None:
    if event.kind == "action_performed":
        return _action_facts(event)
    if event.kind == "action_blocked":
        label = _after(event.summary, " was refused: ")
        return {"result": 403, "payload": {"capability": CAPABILITY_LABELS.get(label, label)}}
    if event.kind == "remote_access_disabled":
        return {"payload": {"reason": _after(event.summary, "turned remote access off: ")}}
    return None


def fill(apps, schema_editor):
    AccessEvent = apps.get_model("remote_access", "AccessEvent")
    Visit = apps.get_model("remote_access", "RepresentativeSession")
    Membership = apps.get_model("accounts", "Membership")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
    events = AccessEvent.objects
    visit = Visit.objects.filter(pk=OuterRef("session_id"))
    events.filter(session__isnull=False).update(actor_team=Subquery(visit.values("team")[:1]))
    events.filter(kind="session_ended", session__isnull=False, actor__isnull=True).update(
        actor=Subquery(visit.values("staff_user")[:1])
    )
    for row in events.filter(kind="session_ended", session__isnull=False).values(
        "pk", "session__end_reason"
    ):
        reason = row["session__end_reason"] or "exit"
        events.filter(pk=row["pk"]).update(payload={"reason": reason})
    role = Membership.objects.filter(user=OuterRef("actor_id"), account=OuterRef("account_id"))
    events.filter(kind__in=["granted", "replaced", "removed"], actor__isnull=False).update(
        actor_role=Subquery(role.values("role")[:1])
    )
    for row in (
        events.filter(kind="granted", grant__isnull=False)
        .exclude(grant__support_request__isnull=True)
        .values("pk", "grant__support_request")
    ):
        events.filter(pk=row["pk"]).update(
            payload={"support_request": row["grant__support_request"]}
        )
    worded = events.filter(
        kind__in=["action_performed", "action_blocked", "remote_access_disabled"]
    ).select_related("actor")
    for event in worded.iterator(chunk_size=BATCH):
        facts = _text_facts(event)
        if facts:
            events.filter(pk=event.pk).update(**facts)
    if postgres:
        # Check the deferred foreign keys of the rows just rewritten now: ALTER TABLE refuses
        # to run while such checks are pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_single_line_text"),
        ("remote_access", "0012_access_event_facts"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
