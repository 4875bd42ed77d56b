from collections.abc import Iterator

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.authorization import describe_action, requires
from accounts.csv_export import csv_download
from accounts.errors import ApplicationError
from accounts.http import posted
from accounts.roles import Capability

from .forms import SegmentEditForm, UploadForm
from .importing import (
    import_confirm,
    import_plan,
    import_prepare,
    import_preview,
    import_restart,
)
from .models import ImportJob, Segment
from .selectors import (
    account_imports,
    account_segments,
    profile_search,
    segment_preview,
    segment_saved_preview,
)
from .services import segment_delete, segment_save


@requires(Capability.VIEW_ACCOUNT)
@require_http_methods(["GET"])
def profiles(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    page = Paginator(profile_search(account=request.latchkey.account, query=query), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "audience/profile_list.html", {"page": page, "query": query})


# --- import ----------------------------------------------------------------------------------


@requires(Capability.IMPORT_DATA)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_prepare(
                account=request.latchkey.account,
                actor=request.latchkey.actor,
                file_name=upload.name,
                content=upload,
            )
        except ApplicationError as error:
            form.add_error(error.field, error.message)
        else:
            return redirect("audience:import_detail", job_id=job.pk)
    return render(
        request,
        "audience/import_upload.html",
        {"form": form, "imports": account_imports(account=request.latchkey.account)[:10]},
        status=400 if form.errors else 200,
    )


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    return get_object_or_404(account_imports(account=request.latchkey.account), pk=job_id)


@requires(Capability.IMPORT_DATA)
@require_http_methods(["GET"])
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    context = {"job": job}
    if job.status == ImportJob.Status.PREVIEW:
        context["headers"], context["preview"] = import_preview(job=job)
        context["plan"] = import_plan(job=job)
    else:
        context["rejections"] = job.rejections.all()[:20]
    return render(request, "audience/import_detail.html", context)


@requires(Capability.IMPORT_DATA)
@require_http_methods(["POST"])
def import_start(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_confirm(job=_job(request, job_id), actor=request.latchkey.actor)
    describe_action(request, _("started importing %(file)s") % {"file": job.file_name})
    return redirect("audience:import_detail", job_id=job.pk)


@requires(Capability.IMPORT_DATA)
@require_http_methods(["POST"])
def import_again(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    try:
        fresh = import_restart(job=job, actor=request.latchkey.actor)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("audience:import_detail", job_id=job.pk)
    describe_action(request, _("checked %(file)s again to import it") % {"file": job.file_name})
    return redirect("audience:import_detail", job_id=fresh.pk)


@requires(Capability.IMPORT_DATA)
@require_http_methods(["GET"])
def import_progress(request: HttpRequest, job_id: int) -> JsonResponse:
    job = _job(request, job_id)
    return JsonResponse(
        {
            "status": job.status,
            "percent": job.percent,
            "processed": job.processed_rows,
            "total": job.total_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "rejected": job.rejected_count,
        }
    )


@requires(Capability.IMPORT_DATA)
@require_http_methods(["GET"])
def import_rejections(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    job = _job(request, job_id)

    def rows() -> Iterator[list]:
        yield ["line", "email", "reason"]
        yield from job.rejections.values_list("line", "email", "reason").iterator()

    return csv_download(rows(), filename=f"import-{job.pk}-rejected.csv")


# --- segments -------------------------------------------------------------------------------


@requires(Capability.VIEW_ACCOUNT)
@require_http_methods(["GET"])
def segments(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "audience/segment_list.html",
        {
            "segments": account_segments(account=request.latchkey.account),
            "can_edit": request.latchkey.actor.can(Capability.EDIT_SEGMENTS),
        },
    )


@requires(Capability.VIEW_ACCOUNT, unsafe=Capability.EDIT_SEGMENTS)
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, segment_id: int | None = None) -> HttpResponse:
    account, actor = request.latchkey.account, request.latchkey.actor
    segment = get_object_or_404(Segment, account=account, pk=segment_id) if segment_id else None
    form = SegmentEditForm(posted(request), segment=segment)
    context = {
        "segment": segment,
        "form": form,
        "conditions": form.conditions,
        "preview": None,
        "problem": None,
    }
    if form.is_valid() and "preview" in request.POST:
        context["preview"] = segment_preview(account=account, **form.preview())
    elif form.is_valid():
        try:
            saved = segment_save(account=account, actor=actor, segment=segment, **form.segment())
        except ApplicationError as error:
            form.add_error(error.field, error.message)
        else:
            _segment_saved(request, saved, created=segment is None)
            return redirect("audience:segment_edit", segment_id=saved.pk)
    elif segment is not None and not form.is_bound:
        context["preview"], context["problem"] = _saved_preview(segment)
    context["can_edit"] = actor.can(Capability.EDIT_SEGMENTS)
    status = 400 if form.has_errors else 200
    return render(request, "audience/segment_edit.html", context, status=status)


def _saved_preview(segment: Segment) -> tuple[tuple | None, str | None]:
    try:
        return segment_saved_preview(segment=segment), None
    except ApplicationError as error:
        return None, error.message


def _segment_saved(request: HttpRequest, segment: Segment, *, created: bool) -> None:
    done = _("created segment %(name)s") if created else _("edited segment %(name)s")
    describe_action(request, done % {"name": segment.name})
    messages.success(request, _("Segment saved."))


@requires(Capability.EDIT_SEGMENTS)
@require_http_methods(["POST"])
def segment_remove(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, account=request.latchkey.account, pk=segment_id)
    segment_delete(account=request.latchkey.account, actor=request.latchkey.actor, segment=segment)
    describe_action(request, _("deleted segment %(name)s") % {"name": segment.name})
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("audience:segments")
