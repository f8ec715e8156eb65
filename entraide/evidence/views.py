"""Staff pages of the evidence: what the fund's records say about one applicant; the imports of
evidence files (the batches, sending a file and following its import, rolling a batch back); the
verification of a fund's applications against the records (its runs, starting one)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_tasks.base import TaskResultStatus

from entraide.applications import selectors as application_selectors
from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.core.progress import progress_of
from entraide.core.tasks_lookup import task_result_or_404
from entraide.evidence import imports, permissions, presenters, selectors, services
from entraide.evidence.forms import EvidenceImportForm
from entraide.evidence.models import EvidenceBatch, VerificationRun
from entraide.evidence.tasks import import_uploaded_evidence
from entraide.funds import selectors as fund_selectors
from entraide.funds.permissions import Capability, has_capability


@login_required
@require_safe
def person_records(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Everything on file for the applicant's NIR: contracts by month, rights, benefits,
    cancellations. Each visit is recorded in the audit log."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    application = application_selectors.application_for_staff(request.user, fund, reference)
    services.record_person_records_viewed(actor=request.user, application=application)
    records = presenters.person_records(
        selectors.person_evidence(application.nir_index),
        selectors.batches_for(application.nir_index),
    )
    return render(
        request,
        "evidence/person_records.html",
        {"fund": fund, "application": application, "records": records},
    )


# -- imports -----------------------------------------------------------------------------------


@login_required
@require_safe
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = selectors.batches_for_staff(request.user)
    page = Paginator(batches, settings.BACKOFFICE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "evidence/batch_list.html",
        {"page": page, "can_import": request.user.has_perm(permissions.IMPORT_FILES)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, permissions.IMPORT_FILES)
    form = EvidenceImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            task_id = services.start_import(actor=request.user, **form.cleaned_data)
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("evidence_import_status", task_id=task_id)
    columns = [
        (label, [column.name for column in imports.SPECS[kind].columns])
        for kind, label in EvidenceBatch.Kind.choices
    ]
    return render(request, "evidence/import_form.html", {"form": form, "columns": columns})


@login_required
@require_safe
def import_status(request: HttpRequest, task_id: str) -> HttpResponse:
    """The import's progress while it runs (the page refreshes by itself), then what it did."""
    permissions.require(request.user, permissions.VIEW_BATCHES)
    result = task_result_or_404(import_uploaded_evidence, task_id)
    kind, upload = result.args[:2]
    summary = result.return_value if result.status == TaskResultStatus.SUCCESSFUL else None
    batch = None
    if summary is not None and summary["outcome"] == "imported":
        # As it is now: it may have been rolled back since.
        batch = selectors.batch_for_staff(request.user, summary["batch"])
    return render(
        request,
        "evidence/import_status.html",
        {
            "result": result,
            "kind": EvidenceBatch.Kind(kind).label,
            "file_name": Path(upload).name,
            "progress": progress_of(task_id),
            "summary": summary,
            "batch": batch,
        },
    )


@login_required
@require_safe
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = selectors.batch_for_staff(request.user, batch_id)
    return render(
        request,
        "evidence/batch_detail.html",
        {
            "batch": batch,
            "has_error_report": selectors.error_report_of(batch) is not None,
            "can_roll_back": batch.status == EvidenceBatch.Status.DONE
            and request.user.has_perm(permissions.ROLL_BACK),
        },
    )


def error_report_download(batch: EvidenceBatch) -> FileResponse:
    """The batch's error report as a CSV attachment (for the page and the API)."""
    path = selectors.error_report_of(batch)
    if path is None:
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"evidence-batch-{batch.pk}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_safe
def batch_errors(request: HttpRequest, batch_id: int) -> FileResponse:
    return error_report_download(selectors.batch_for_staff(request.user, batch_id))


@login_required
@require_http_methods(["GET", "POST"])
def batch_rollback(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A confirmation page; its POST deletes every record of the batch."""
    permissions.require(request.user, permissions.ROLL_BACK)
    batch = selectors.batch_for_staff(request.user, batch_id)
    if request.method == "GET":
        return render(request, "evidence/batch_rollback.html", {"batch": batch})
    try:
        imports.rollback_batch(actor=request.user, batch=batch)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Batch %(id)s was rolled back: its records are deleted.") % {"id": batch.pk},
        )
    return redirect("evidence_batch", batch_id=batch.pk)


# -- verification of a fund's applications against the records --------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def fund_verification(request: HttpRequest, slug: str) -> HttpResponse:
    """The latest run's findings and every run, for the fund's staff; its POST verifies every
    application now (for those who manage the fund)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    can_verify = has_capability(request.user, fund, Capability.MANAGE_FUND)
    if request.method == "POST":
        if not can_verify:
            raise PermissionDenied()
        run = services.request_verification(actor=request.user, fund=fund)
        return redirect("fund_verification_run", slug=fund.slug, run_id=run.pk)
    runs = selectors.verification_runs_of(fund)
    page = Paginator(runs, settings.BACKOFFICE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "evidence/fund_verification.html",
        {
            "fund": fund,
            "page": page,
            "latest": selectors.latest_verification(fund),
            "can_verify": can_verify,
            "can_view_batches": request.user.has_perm(permissions.VIEW_BATCHES),
        },
    )


@login_required
@require_safe
def fund_verification_run(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """One run: its progress while it runs (the page follows it by itself), then what it
    found, with links to the applications concerned while its results are the latest."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    run = selectors.verification_run_of(fund, run_id)
    running = run.status == VerificationRun.Status.RUNNING
    latest = None if running else selectors.latest_verification(fund)
    return render(
        request,
        "evidence/verification_run.html",
        {
            "fund": fund,
            "run": run,
            "running": running,
            "progress": progress_of(run.task_id) if running and run.task_id else None,
            "is_latest": latest is not None and latest.pk == run.pk,
            "can_view_batches": request.user.has_perm(permissions.VIEW_BATCHES),
        },
    )
