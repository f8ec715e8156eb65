"""Exports of a fund's applications: started from the list (its filters) or the dashboard (the
whole list), followed on a page that refreshes itself, downloaded from disk.

Everyone who may export from the fund (``Capability.EXPORT``) may follow and download the
fund's exports, whoever asked for them: an auditor can fetch the file an operator asked for.
Another fund's export, or an id that is not an export, is a 404. Each download is audited."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_POST, require_safe
from django_tasks.base import TaskResult

from entraide.core.progress import progress_of
from entraide.core.tasks_lookup import fund_task_result
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability
from entraide.intake import selectors as intake_selectors
from entraide.reporting import exports, services
from entraide.reporting.attestations import language_of
from entraide.reporting.export_forms import ExportForm
from entraide.reporting.tasks import export_applications
from entraide.review.assignments import reviewers_of
from entraide.review.list_forms import ApplicationFilterForm


@login_required
@require_POST
def export_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Export what the list shows with the filters posted (the list's own field names; a value
    the list would leave out is left out here too), in the format chosen."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.EXPORT)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest()
    filters = ApplicationFilterForm(
        request.POST, reviewers=reviewers_of(fund), partners=intake_selectors.partner_choices(fund)
    )
    filters.is_valid()
    task_id = services.request_applications_export(
        actor=request.user,
        fund=fund,
        filters=filters.filters(),
        file_format=form.chosen_format(),
        language=language_of(get_language()),
    )
    return redirect("export_status", slug=fund.slug, task_id=task_id)


def _export_of_fund(request: HttpRequest, slug: str, task_id: str) -> tuple[Fund, TaskResult, str]:
    """The export task, only if it belongs to this fund and the person may export from it, and
    its id as the task has it (the address's UUID may be written in capitals, without hyphens:
    its progress and its audit events go by the task's)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.EXPORT)
    result = fund_task_result(export_applications, task_id, fund.pk)
    return fund, result, str(result.id)


@login_required
@require_safe
def export_status(request: HttpRequest, slug: str, task_id: str) -> HttpResponse:
    fund, result, task_id = _export_of_fund(request, slug, task_id)
    progress = progress_of(task_id)
    output = Path(progress.output_path) if progress and progress.output_path else None
    return render(
        request,
        "reporting/export_status.html",
        {
            "fund": fund,
            "result": result,
            "progress": progress,
            "task_id": task_id,
            "file_format": output.suffix.lstrip(".") if output else "",
            "deleted": output is not None and not output.exists(),
            "keep_days": exports.KEEP_DAYS,
        },
    )


@login_required
@require_safe
def export_download(request: HttpRequest, slug: str, task_id: str) -> FileResponse:
    fund, result, task_id = _export_of_fund(request, slug, task_id)
    progress = progress_of(task_id)
    if not result.is_finished or progress is None or not progress.output_path:
        raise Http404
    path = Path(progress.output_path)
    file_format = path.suffix.lstrip(".")
    try:
        handle = path.open("rb")
    except FileNotFoundError:  # deleted after exports.KEEP_DAYS
        raise Http404 from None
    try:
        services.record_export_download(
            actor=request.user, fund=fund, task_id=task_id, file_format=file_format
        )
    except BaseException:
        handle.close()
        raise
    day = fund.local_today(result.finished_at)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{fund.slug}-applications-{day.isoformat()}.{file_format}",
        content_type=exports.CONTENT_TYPES[file_format],
    )
    # Personal data: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
