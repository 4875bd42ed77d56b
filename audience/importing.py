"""CSV import of profiles: checked up front, previewed, then run in batches by a worker.

Reading is streamed (csv over the stored bytes) and writing is batched, so memory depends on
the batch size and the row limit, not on the file.
"""

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.authorization import require_capability
from accounts.models import Account
from accounts.plans import plan_details
from accounts.roles import Capability

from .models import ImportJob, ImportRejection, Profile

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
BATCH_SIZE = 1000
PREVIEW_ROWS = 10

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


class ImportRefused(Exception):
    """The file cannot be imported at all; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def _text(content: bytes | memoryview) -> io.TextIOWrapper:
    # utf-8-sig drops a byte-order mark; newline="" lets csv handle quoted newlines.
    return io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")


def read_rows(content: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header, and (line number, cells) for each non-blank row after it."""
    reader = csv.reader(_text(content))
    try:
        headers = next(reader)
    except StopIteration:
        raise ImportRefused(_("The file is empty.")) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line + 1, cells
            line = reader.line_num

    return headers, rows()


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


def _check_utf8(content: bytes, chunk: int = 1 << 20) -> None:
    """Raise UnicodeDecodeError unless the bytes are UTF-8, without a copy of the whole text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(content)
    for start in range(0, len(view), chunk):
        decoder.decode(view[start : start + chunk])
    decoder.decode(b"", final=True)


def import_prepare(*, account: Account, actor: Actor, file_name: str, content: bytes) -> ImportJob:
    """Check the file and keep it for a preview; nothing is imported yet."""
    require_capability(actor, account, Capability.IMPORT_DATA)
    if len(content) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than 20 MB. Split it and import the parts."))
    try:
        _check_utf8(content)
    except UnicodeDecodeError:
        raise ImportRefused(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
        ) from None
    headers, rows = read_rows(content)
    mapping = column_mapping(headers)
    if "email" not in mapping.values():
        raise ImportRefused(
            _("No email column. Name one column “email”; it is how profiles are matched.")
        )
    if len(set(headers)) != len(headers):
        raise ImportRefused(_("Two columns have the same name. Rename one of them."))
    total = 0
    for total, _row in enumerate(rows, start=1):
        if total > MAX_ROWS:
            raise ImportRefused(
                _("The file has more than 200,000 rows. Split it and import the parts.")
            )
    if total == 0:
        raise ImportRefused(_("The file has a header but no rows."))
    return ImportJob.objects.create(
        account=account,
        created_by=actor.user,
        file_name=file_name[:255],
        content=content,
        mapping=mapping,
        total_rows=total,
    )


def import_preview(*, job: ImportJob) -> tuple[list[str], list[dict]]:
    headers, rows = read_rows(bytes(job.content))
    preview = []
    for line, cells in rows:
        result = check_row(cells, headers, job.mapping)
        preview.append({"line": line, "cells": cells, "error": result.error})
        if len(preview) == PREVIEW_ROWS:
            break
    return headers, preview


@transaction.atomic
def import_confirm(*, job: ImportJob, actor: Actor) -> ImportJob:
    require_capability(actor, job.account, Capability.IMPORT_DATA)
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.QUEUED
    )
    if claimed:
        from .tasks import import_profiles

        # robust: a broker outage leaves the job queued for the recovery sweep, never a 500.
        transaction.on_commit(lambda: import_profiles.delay(job_id=job.pk), robust=True)
    job.refresh_from_db()
    return job


def import_run(*, job_id: int) -> ImportJob | None:
    """Run a queued import. A second delivery of the same task finds it claimed and stops."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("account").get(pk=job_id)
    try:
        _import(job)
    except Exception as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            error=_("The import stopped: %(error)s") % {"error": type(error).__name__},
            finished_at=timezone.now(),
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def _import(job: ImportJob) -> None:
    headers, rows = read_rows(job.content)
    seen: dict[str, int] = {}
    batch: list[tuple[int, RowResult]] = []
    totals = {"processed": 0, "created": 0, "updated": 0, "rejected": 0}
    rejections: list[ImportRejection] = []
    for line, cells in rows:
        result = check_row(cells, headers, job.mapping)
        email = result.values.get("email", "")
        if result.error is None and email in seen:
            result.error = _("same email as line %(line)s") % {"line": seen[email]}
        if result.error is not None:
            rejections.append(
                ImportRejection(job=job, line=line, email=email[:254], reason=result.error[:300])
            )
        else:
            seen[email] = line
            batch.append((line, result))
        totals["processed"] += 1
        if len(batch) >= BATCH_SIZE or len(rejections) >= BATCH_SIZE:
            _write_batch(job, batch, rejections, totals)
            batch, rejections = [], []
    _write_batch(job, batch, rejections, totals)


@transaction.atomic
def _write_batch(job, batch, rejections, totals) -> None:
    # Lock the account: two imports at once must not both spend the plan's last places.
    account = Account.objects.select_for_update().get(pk=job.account_id)
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
    )
