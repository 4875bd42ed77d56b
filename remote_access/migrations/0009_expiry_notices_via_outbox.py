"""The "access has ended" mail moves to the outbox: the per-grant claim column goes.

Notices still owed when this runs (expired grants whose mail never left) are written to the
outbox first, so the upgrade loses none. Only those the old re-queue would still have sent
(ended within 7 days): older grants were expired before the column existed, or their notice
was already given up on, and mailing them now would only confuse.
"""

import datetime as dt

from django.db import migrations
from django.utils import timezone


def owed_notices_to_outbox(apps, schema_editor):
    Grant = apps.get_model("remote_access", "RemoteAccessGrant")
    OutboxMessage = apps.get_model("outbox", "OutboxMessage")
    now = timezone.now()
    owed = Grant.objects.filter(
        status="expired",
        expiry_notice_sent_at__isnull=True,
        ended_at__gt=now - dt.timedelta(days=7),
    ).values_list("pk", flat=True)
    batch = []
    for grant_id in owed.iterator(chunk_size=2000):
        batch.append(
            OutboxMessage(
                kind="access_expired",
                payload={"grant_id": grant_id},
                rendered=False,
                priority=1,
                next_attempt_at=now,
                created_at=now,
            )
        )
        if len(batch) >= 2000:
            OutboxMessage.objects.bulk_create(batch)
            batch = []
    OutboxMessage.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("remote_access", "0008_single_line_text"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(owed_notices_to_outbox, migrations.RunPython.noop),
        migrations.RemoveField(model_name="remoteaccessgrant", name="expiry_notice_sent_at"),
    ]
