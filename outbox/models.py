from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One mail owed to someone, written in the same transaction as the change it reports.

    Most rows carry the finished mail (recipients, subject, bodies). Rows written in bulk by
    SQL (the expiry sweep) carry only `kind` and `payload` (`rendered` false): the kind's
    renderer, registered by the app that owns it, writes the mail when it is first delivered.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Nobody to send it to")

    class Priority(models.IntegerChoices):
        # Someone is waiting for it (a reset link, a change they just made) …
        NOW = 0, _("Now")
        # … or it is one of a batch (expiry notices), which goes after those.
        BULK = 1, _("Bulk")

    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, blank=True)
    rendered = models.BooleanField(default=True)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    # The body holds a one-time link (invitation, password reset): it is erased once sent
    # and never shown in admin.
    confidential = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NOW)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # The error class and the server's reply, never the mail itself.
    last_error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbox mail")
        verbose_name_plural = _("outbox mail")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "failed", "skipped"]),
                name="outbox_status_valid",
            ),
        ]
        indexes = [
            # The claim: pending rows in the order they are sent.
            models.Index(
                fields=["priority", "next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="outbox_pending_idx",
            ),
            # Claims whose worker died, found by age.
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="outbox_sending_idx"
            ),
            # What admin filters on first.
            models.Index(
                fields=["created_at"], condition=Q(status="failed"), name="outbox_failed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
