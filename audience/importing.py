"""CSV import of profiles: checked up front, previewed, then run in batches by a worker.

The upload is kept in the database in 1 MiB chunks and read back one chunk at a time; rows
are checked as they stream past and written in batches; repeated emails are found in SQL. So
memory depends on the chunk and batch sizes, not on the file.
"""

import codecs
import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.authorization import require_capability
from accounts.errors import ApplicationError
from accounts.models import Account
from accounts.plans import plan_details
from accounts.roles import Capability
from accounts.validators import single_line

from .models import ImportChunk, ImportJob, ImportRejection, ImportSeenEmail, Profile

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
BATCH_SIZE = 1000
CHUNK_BYTES = 1 << 20
STAGE_BATCH = 5000
PREVIEW_ROWS = 10
# The longest cell a file may hold, in characters (the csv module's default, 131,072, made
# longer cells an uncaught error). Longer cells refuse the file with the line number.
CELL_LIMIT = 1_000_000
csv.field_size_limit(CELL_LIMIT)
# A batch commits in well under a second; a job silent for this long has lost its worker.
HEARTBEAT_STALE = dt.timedelta(minutes=2)
QUEUED_STALE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 3
IMPORT_GAVE_UP = gettext_lazy(
    "The import stopped %(attempts)s times before the end (a worker was lost each time), so "
    "it was given up. The rows counted above are imported; start again to import the rest."
)

PROFILE_FIELDS = ["email", "first_name", "last_name", "country", "total_spent", "created_at"]
ALIASES = {
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "firstname": "first_name",
    "given_name": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "country_code": "country",
    "spent": "total_spent",
    "total": "total_spent",
    "created": "created_at",
    "signed_up": "created_at",
}


def _normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def column_mapping(headers: list[str]) -> dict[str, str]:
    """Each CSV column to a profile field, or to `properties.<name>` when unknown."""
    mapping = {}
    for header in headers:
        name = _normalise(header)
        target = ALIASES.get(name, name)
        if not name:
            continue
        mapping[header] = target if target in PROFILE_FIELDS else f"properties.{name[:50]}"
    return mapping


class _StoredFile(io.RawIOBase):
    """An upload read back from its ImportChunk rows, one row (one query) at a time."""

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id
        self.seq = 0
        self.pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.pending:
            data = (
                ImportChunk.objects.filter(job_id=self.job_id, seq=self.seq)
                .values_list("data", flat=True)
                .first()
            )
            if data is None:
                return 0
            self.pending, self.seq = memoryview(bytes(data)), self.seq + 1
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def _open(job: ImportJob) -> IO[bytes]:
    legacy = ImportJob.objects.filter(pk=job.pk).values_list("content", flat=True).first()
    if legacy:  # uploaded before files were kept in chunks
        return io.BytesIO(bytes(legacy))
    return io.BufferedReader(_StoredFile(job.pk), buffer_size=CHUNK_BYTES)


def _store(job: ImportJob, content: IO[bytes]) -> None:
    """Keep the upload in chunks, refusing it when too large or not UTF-8, without ever
    holding more than one chunk."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = 0
    for seq in itertools.count():
        chunk = content.read(CHUNK_BYTES)
        size += len(chunk)
        if size > MAX_BYTES:
            raise ApplicationError(
                _("The file is larger than 20 MB. Split it and import the parts."), field="file"
            )
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise ApplicationError(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."),
                field="file",
            ) from None
        if not chunk:
            return
        ImportChunk.objects.create(job=job, seq=seq, data=chunk)


def read_rows(source: IO[bytes]) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header, and (line number, cells) for each non-blank row after it.

    A row the csv module cannot read (a cell over CELL_LIMIT, a NUL byte) refuses the whole
    file with its line number: the rows after it cannot be trusted to start where they seem.
    """
    # utf-8-sig drops a byte-order mark; newline="" lets csv handle quoted newlines.
    reader = csv.reader(io.TextIOWrapper(source, encoding="utf-8-sig", newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise ApplicationError(_("The file is empty."), field="file") from None
    except csv.Error as error:
        raise _unreadable(1, error) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise _unreadable(line + 1, error) from None
            if any(cell.strip() for cell in cells):
                yield line + 1, cells
            line = reader.line_num

    return headers, rows()


def _unreadable(line: int, error: csv.Error) -> ApplicationError:
    if "field larger than field limit" in str(error):
        reason = _("a cell is longer than %(limit)s characters") % {"limit": f"{CELL_LIMIT:,}"}
    else:
        reason = _("it is not valid CSV (%(error)s)") % {"error": str(error)[:100]}
    return ApplicationError(
        _("Line %(line)s cannot be read: %(reason)s. Correct it and upload the file again.")
        % {"line": line, "reason": reason},
        field="file",
    )


@dataclass
class RowResult:
    values: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)
    error: str | None = None


def check_row(cells: list[str], headers: list[str], mapping: dict[str, str]) -> RowResult:
    result = RowResult()
    if len(cells) > len(headers):
        result.error = _("%(count)s cells but the header has %(header)s columns") % {
            "count": len(cells),
            "header": len(headers),
        }
        return result
    if any("\x00" in cell for cell in cells):
        result.error = _("a cell contains a NUL character")  # PostgreSQL text cannot hold it
        return result
    for header, cell in zip(headers, cells, strict=False):
        target = mapping.get(header)
        if target is None:
            continue
        cell = cell.strip()
        if not cell:
            continue  # a blank cell leaves what the profile already has
        if target.startswith("properties."):
            result.properties[target[len("properties.") :]] = cell[:500]
        else:
            result.values[target] = cell
    email = result.values.get("email", "").lower()
    try:
        validate_email(email)
    except ValidationError:
        result.error = (
            _("“%(email)s” is not an email address") % {"email": email[:80]}
            if email
            else _("no email")
        )
        return result
    result.values["email"] = email
    for name in ("first_name", "last_name"):
        if len(result.values.get(name, "")) > 100:
            result.error = _("%(field)s is longer than 100 characters") % {"field": name}
            return result
    country = result.values.get("country", "")
    if country and not re.fullmatch(r"[A-Za-z]{2}", country):
        result.error = _("country “%(value)s” is not a two-letter code") % {"value": country[:20]}
        return result
    if country:
        result.values["country"] = country.upper()
    spent = result.values.pop("total_spent", "")
    if spent:
        try:
            amount = Decimal(spent.replace(",", ""))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
            result.error = _("total spent “%(value)s” is not an amount") % {"value": spent[:20]}
            return result
        result.values["total_spent"] = amount.quantize(Decimal("0.01"))
    created = result.values.pop("created_at", "")
    if created:
        moment = parse_datetime(created)
        if moment is None:
            day = parse_date(created)
            moment = dt.datetime.combine(day, dt.time.min, dt.UTC) if day else None
        if moment is None:
            result.error = _("created “%(value)s” is not a date (YYYY-MM-DD)") % {
                "value": created[:30]
            }
            return result
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=dt.UTC)
        result.values["created_at"] = moment
    return result


@transaction.atomic
def import_prepare(
    *, account: Account, actor: Actor, file_name: str, content: IO[bytes]
) -> ImportJob:
    """Check the file and keep it for a preview; nothing is imported yet."""
    require_capability(actor, account, Capability.IMPORT_DATA)
    job = ImportJob.objects.create(
        account=account, created_by=actor.user, file_name=single_line(file_name)[:255]
    )
    _store(job, content)
    headers, rows = read_rows(_open(job))
    if any("\x00" in header for header in headers):
        raise ApplicationError(
            _("The header row contains a NUL character. Save the file as CSV and upload it again."),
            field="file",
        )
    mapping = column_mapping(headers)
    if "email" not in mapping.values():
        raise ApplicationError(
            _("No email column. Name one column “email”; it is how profiles are matched."),
            field="file",
        )
    if len(set(headers)) != len(headers):
        raise ApplicationError(
            _("Two columns have the same name. Rename one of them."), field="file"
        )
    job.mapping = mapping
    job.save(update_fields=["mapping"])
    _stage_emails(job, headers, rows)
    return job


def _stage_emails(job: ImportJob, headers: list[str], rows) -> None:
    """Count the rows and keep the first line of each email in the database, for the
    preview's figures; refuses the file (rolling the job back) when it is too long."""
    column = next(i for i, header in enumerate(headers) if job.mapping.get(header) == "email")
    total = with_email = 0
    staged: list[tuple[str, int]] = []
    for total, (line, cells) in enumerate(rows, start=1):
        if total > MAX_ROWS:
            raise ApplicationError(
                _("The file has more than 200,000 rows. Split it and import the parts."),
                field="file",
            )
        email = cells[column].strip().lower() if column < len(cells) else ""
        if email and "\x00" not in email:
            with_email += 1
            staged.append((email[:254], line))
        if len(staged) >= STAGE_BATCH:
            _record_emails(job, staged)
            staged = []
    _record_emails(job, staged)
    if total == 0:
        raise ApplicationError(_("The file has a header but no rows."), field="file")
    job.total_rows = total
    job.duplicate_rows = with_email - ImportSeenEmail.objects.filter(job=job).count()
    job.save(update_fields=["total_rows", "duplicate_rows"])


def _record_emails(job: ImportJob, emails: list[tuple[str, int]]) -> None:
    """Keep (email, line) pairs; an email already kept keeps its first line.

    On PostgreSQL one INSERT from two arrays: building a model per row cost more than the
    import itself.
    """
    if not emails:
        return
    if connection.vendor != "postgresql":
        ImportSeenEmail.objects.bulk_create(
            [ImportSeenEmail(job=job, email=email, line=line) for email, line in emails],
            ignore_conflicts=True,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ImportSeenEmail._meta.db_table} (job_id, email, line) "  # noqa: S608 - the table name is ours
            "SELECT %s, email, line FROM unnest(%s::text[], %s::int[]) "
            "WITH ORDINALITY AS t(email, line, n) ORDER BY n ON CONFLICT DO NOTHING",
            [job.pk, [email for email, _line in emails], [line for _email, line in emails]],
        )


@dataclass(frozen=True)
class ImportPlan:
    """What importing a previewed file will do against the plan's profile limit."""

    plan: str
    limit: int
    profiles: int
    new_emails: int
    duplicate_rows: int

    @property
    def room(self) -> int:
        return max(0, self.limit - self.profiles)

    @property
    def skipped(self) -> int:
        return max(0, self.new_emails - self.room)


def import_plan(*, job: ImportJob) -> ImportPlan:
    """The plan figures for a previewed file, counted in SQL (the file's emails are staged)."""
    details = plan_details(job.account.plan)
    profiles = Profile.objects.filter(account=job.account_id)
    new_emails = (
        ImportSeenEmail.objects.filter(job=job).exclude(email__in=profiles.values("email")).count()
    )
    return ImportPlan(
        plan=details.label,
        limit=details.profile_limit,
        profiles=profiles.count(),
        new_emails=new_emails,
        duplicate_rows=job.duplicate_rows,
    )


def import_preview(*, job: ImportJob) -> tuple[list[str], list[dict]]:
    """The first rows with the problem each would meet, repeated emails included."""
    headers, rows = read_rows(_open(job))
    checked = [
        (line, cells, check_row(cells, headers, job.mapping))
        for line, cells in itertools.islice(rows, PREVIEW_ROWS)
    ]
    emails = {result.values["email"] for _line, _cells, result in checked if not result.error}
    first_line = dict(
        ImportSeenEmail.objects.filter(job=job, email__in=emails).values_list("email", "line")
    )
    preview = []
    for line, cells, result in checked:
        error = result.error
        if error is None and first_line.get(result.values["email"], line) != line:
            error = _("same email as line %(line)s") % {"line": first_line[result.values["email"]]}
        preview.append({"line": line, "cells": cells, "error": error})
    return headers, preview


@transaction.atomic
def import_confirm(*, job: ImportJob, actor: Actor) -> ImportJob:
    require_capability(actor, job.account, Capability.IMPORT_DATA)
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.QUEUED, heartbeat_at=timezone.now()
    )
    if claimed:
        _enqueue(job.pk)
    job.refresh_from_db()
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import import_profiles

    # robust: a broker outage leaves the job queued for the recovery sweep, never a 500.
    transaction.on_commit(lambda: import_profiles.delay(job_id=job_id), robust=True)


class _Superseded(Exception):
    """Another worker claimed the job after this one was taken for dead: this one stops."""


def _claim(job_id: int) -> ImportJob | None:
    """Take a queued job, or a running one whose worker stopped sending heartbeats.

    A redelivered task finds a job that a live worker holds (fresh heartbeat) and stops; one
    that a dead worker held is taken over and resumed after its last committed batch.
    """
    stale = timezone.now() - HEARTBEAT_STALE
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update()
            .filter(
                Q(status=ImportJob.Status.QUEUED)
                | Q(status=ImportJob.Status.RUNNING, heartbeat_at__lt=stale),
                pk=job_id,
            )
            .select_related("account")
            .defer("content")
            .first()
        )
        if job is None:
            return None
        if job.attempts >= MAX_ATTEMPTS:
            _fail(job, IMPORT_GAVE_UP % {"attempts": job.attempts})
            return None
        if job.attempts == 0:
            # The preview's staged emails go: while the import runs the table holds only the
            # emails imported so far (a row rejected for another reason leaves its email free).
            ImportSeenEmail.objects.filter(job=job).delete()
        job.status = ImportJob.Status.RUNNING
        job.attempts += 1
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "attempts", "heartbeat_at"])
    return job


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=message, finished_at=timezone.now()
    )
    ImportSeenEmail.objects.filter(job=job).delete()


def import_run(*, job_id: int) -> ImportJob | None:
    """Run (or resume) an import. A second delivery of the same task finds it claimed and
    stops, unless the worker holding it has died."""
    job = _claim(job_id)
    if job is None:
        return None
    try:
        _import(job)
    except _Superseded:
        return None
    except Exception as error:
        reason = error.message if isinstance(error, ApplicationError) else type(error).__name__
        _fail(job, _("The import stopped: %(error)s") % {"error": reason})
        raise
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE, finished_at=timezone.now()
        )
        ImportSeenEmail.objects.filter(job=job).delete()
    job.refresh_from_db()
    return job


def import_recover_stalled(*, stale_after: dt.timedelta | None = None) -> list[int]:
    """Queue again every import whose worker stopped sending heartbeats; returns their ids.

    Run every minute by beat. The task that picks a job up resumes it after its last
    committed batch, or marks it failed after MAX_ATTEMPTS tries.
    """
    now = timezone.now()
    stale = now - (HEARTBEAT_STALE if stale_after is None else stale_after)
    # A queued job may simply wait behind other tasks; its message is sent again only when it
    # has waited far longer than that (the broker may have lost it).
    queued_stale = now - (QUEUED_STALE if stale_after is None else stale_after)
    stalled = list(
        ImportJob.objects.filter(
            Q(status=ImportJob.Status.RUNNING, heartbeat_at__lt=stale)
            | Q(status=ImportJob.Status.QUEUED, heartbeat_at__lt=queued_stale)
        ).values_list("pk", flat=True)
    )
    with transaction.atomic():
        for job_id in stalled:
            _enqueue(job_id)
    return stalled


@transaction.atomic
def import_restart(*, job: ImportJob, actor: Actor) -> ImportJob:
    """A new preview of a failed import's file: importing it again updates the rows that
    made it in (matched by email) and adds the rest."""
    require_capability(actor, job.account, Capability.IMPORT_DATA)
    if job.status != ImportJob.Status.FAILED:
        raise ApplicationError(_("Only a failed import can be started again."))
    fresh = ImportJob.objects.create(
        account=job.account, created_by=actor.user, file_name=job.file_name, mapping=job.mapping
    )
    _store(fresh, _open(job))
    headers, rows = read_rows(_open(fresh))
    _stage_emails(fresh, headers, rows)
    return fresh


def _import(job: ImportJob) -> None:
    """Check and write the rows after the last committed batch, in batches."""
    headers, rows = read_rows(_open(job))
    done = job.processed_rows
    totals = {
        "processed": done,
        "created": job.created_count,
        "updated": job.updated_count,
        "rejected": job.rejected_count,
    }
    batch: list[tuple[int, RowResult]] = []
    rejections: list[ImportRejection] = []
    for line, cells in itertools.islice(rows, done, None):
        result = check_row(cells, headers, job.mapping)
        if result.error is not None:
            email = result.values.get("email", "")
            rejections.append(
                ImportRejection(job=job, line=line, email=email[:254], reason=result.error[:300])
            )
        else:
            batch.append((line, result))
        totals["processed"] += 1
        if len(batch) >= BATCH_SIZE or len(rejections) >= BATCH_SIZE:
            _write_batch(job, batch, rejections, totals)
            batch, rejections = [], []
    _write_batch(job, batch, rejections, totals)


def _drop_repeats(job: ImportJob, batch, rejections) -> list:
    """Rows whose email came earlier in the file become rejections; the rest are recorded.

    The earlier lines live in the database (one lookup per batch), so memory does not grow
    with the file and a resumed import still knows what the dead worker saw.
    """
    emails = {result.values["email"] for _line, result in batch}
    first_line = dict(
        ImportSeenEmail.objects.filter(job=job, email__in=emails).values_list("email", "line")
    )
    kept = []
    for line, result in batch:
        email = result.values["email"]
        if email in first_line:
            rejections.append(
                ImportRejection(
                    job=job,
                    line=line,
                    email=email[:254],
                    reason=_("same email as line %(line)s") % {"line": first_line[email]},
                )
            )
            continue
        first_line[email] = line
        kept.append((line, result))
    _record_emails(job, [(result.values["email"], line) for line, result in kept])
    rejections.sort(key=lambda rejection: rejection.line)
    return kept


@transaction.atomic
def _write_batch(job, batch, rejections, totals) -> None:
    # The job row first: only the worker holding the latest claim may write, and the counters
    # move forward from exactly where the last committed batch left them.
    current = ImportJob.objects.select_for_update().only("attempts", "status").get(pk=job.pk)
    if current.attempts != job.attempts or current.status != ImportJob.Status.RUNNING:
        raise _Superseded
    # Lock the account: two imports at once must not both spend the plan's last places.
    account = Account.objects.select_for_update().get(pk=job.account_id)
    batch = _drop_repeats(job, batch, rejections)
    limit = plan_details(account.plan).profile_limit
    emails = [result.values["email"] for _line, result in batch]
    mapped = {target for target in job.mapping.values() if target in PROFILE_FIELDS}
    columns = sorted((mapped - {"email"}) | {"properties"})
    existing = {
        row["email"]: row
        for row in Profile.objects.filter(account=account, email__in=emails).values(
            "email", *columns
        )
    }
    room = limit - Profile.objects.filter(account=account).count()
    profiles = []
    for line, result in batch:
        email = result.values["email"]
        if email not in existing:
            if room <= 0:
                rejections.append(
                    ImportRejection(
                        job=job,
                        line=line,
                        email=email,
                        reason=_("the %(plan)s plan allows %(limit)s profiles")
                        % {"plan": plan_details(account.plan).label, "limit": f"{limit:,}"},
                    )
                )
                continue
            room -= 1
            totals["created"] += 1
        else:
            totals["updated"] += 1
        before = dict(existing.get(email, {}))
        properties = {**before.pop("properties", {}), **result.properties}
        profiles.append(
            Profile(account=account, **{**before, **result.values}, properties=properties)
        )
    if profiles:
        Profile.objects.bulk_create(
            profiles,
            update_conflicts=True,
            unique_fields=["account", "email"],
            update_fields=columns,
        )
    ImportRejection.objects.bulk_create(rejections)
    totals["rejected"] += len(rejections)
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=totals["processed"],
        created_count=totals["created"],
        updated_count=totals["updated"],
        rejected_count=totals["rejected"],
        heartbeat_at=timezone.now(),
    )
