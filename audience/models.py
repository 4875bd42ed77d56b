from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from accounts.validators import single_line_text


class Profile(models.Model):
    """One of the merchant's customers."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="profiles")
    email = models.EmailField(_("email"))
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO code"))
    total_spent = models.DecimalField(_("total spent"), max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    properties = models.JSONField(_("properties"), default=dict, blank=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="one_profile_per_email"),
            models.CheckConstraint(condition=Q(total_spent__gte=0), name="profile_spent_positive"),
        ]
        # No index of its own: the list is read by account in email order, which the unique
        # (account, email) constraint's index serves (tests/audience/test_indexes.py). Search
        # is a substring match (icontains) that no B-tree index can serve.

    def __str__(self) -> str:
        return self.email


class Segment(models.Model):
    """A saved filter over profiles: conditions joined by all (AND) or any (OR)."""

    class Match(models.TextChoices):
        ALL = "all", _("all conditions")
        ANY = "any", _("any condition")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(_("name"), max_length=100, validators=[single_line_text])
    match = models.CharField(_("match"), max_length=3, choices=Match.choices, default=Match.ALL)
    # [{"field": "total_spent", "operator": "gt", "value": "100"}, …], validated by conditions.py
    conditions = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="segment_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """A CSV upload, from preview to result. The file is kept in the database (ImportChunk)
    so that any worker on any machine can read it."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Waiting for confirmation")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    # Only files uploaded before ImportChunk: the file now lives in chunks, read one at a time.
    content = models.BinaryField(blank=True, default=b"")
    # {"csv column": "profile field" or "properties.<name>"}
    mapping = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # Rows whose email appears earlier in the file, counted when the file is checked.
    duplicate_rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life: set when queued, claimed, and with every committed batch. A queued or
    # running job whose heartbeat stops is picked up again by the recovery sweep.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # How many times a worker has claimed the job; each claim resumes after the last batch.
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["heartbeat_at"],
                name="import_in_flight_idx",
                condition=Q(status__in=["queued", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class ImportChunk(models.Model):
    """One piece of an uploaded file, in order. Reading the file fetches one piece at a time,
    so memory does not grow with the file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="import_chunk_once")]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.seq}"


class ImportSeenEmail(models.Model):
    """The first line of each email in an import, kept in the database rather than in a
    worker's memory. While the file waits for confirmation it holds every email of the file
    (for the preview's plan and duplicate figures); while the import runs, every imported
    email, so that a later row with the same email is rejected batch by batch, across a
    worker restart too. Deleted when the import ends."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=254, validators=[single_line_text])
    line = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "email"], name="import_email_once_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.email} (line {self.line})"


class ImportRejection(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    line = models.PositiveIntegerField()
    email = models.CharField(max_length=254, blank=True)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["line"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"
