"""Back office of a fund: dashboard, the list of applications, deciding, exports."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_tasks.base import TaskResult

from entraide.applications import selectors as application_selectors
from entraide.applications import services as application_services
from entraide.applications.forms import StaffMessageForm
from entraide.applications.models import Application
from entraide.applications.tasks import export_fund_applications
from entraide.audit import selectors as audit_selectors
from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.core.progress import progress_of
from entraide.core.tasks_lookup import fund_task_result
from entraide.evidence import selectors as evidence_selectors
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, capabilities
from entraide.review import selectors, services
from entraide.review.forms import ApplicationFilterForm, DecisionForm
from entraide.review.verification import application_verification
from entraide.rules import selectors as rules_selectors
from entraide.rules import services as rules_services
from entraide.rules.models import ApplicationEvaluation
from entraide.rules.presenters import criteria_rows

RECENT_ACTIVITY = 20


@login_required
@require_safe
def fund_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug)
    committed = selectors.committed_total(fund)
    granted = capabilities(request.user, fund)
    activity = []
    if Capability.VIEW_AUDIT in granted:
        activity = list(audit_selectors.events_for_fund(fund.pk)[:RECENT_ACTIVITY])
    return render(
        request,
        "review/dashboard.html",
        {
            "fund": fund,
            "counts": application_selectors.status_counts(fund),
            "committed": committed,
            "left": fund.budget - committed,
            "capabilities": granted,
            "activity": activity,
            "verification": evidence_selectors.latest_verification(fund)
            if Capability.VIEW_APPLICATIONS in granted
            else None,
        },
    )


@login_required
@require_safe
def application_list(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    filters = ApplicationFilterForm(request.GET or None)
    status, search, records = "", "", ""
    if filters.is_valid():
        status, search = filters.cleaned_data["status"], filters.cleaned_data["q"]
        records = filters.cleaned_data["records"]
    applications = application_selectors.applications_for_staff(
        request.user, fund, status=status or None, search=search, records=records
    ).select_related("verification")  # each row says what the last verification found
    page = Paginator(applications, settings.BACKOFFICE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "review/application_list.html",
        {"fund": fund, "page": page, "filters": filters, "query": query.urlencode()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_detail(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    application = application_selectors.application_for_staff(request.user, fund, reference)
    granted = capabilities(request.user, fund)
    if request.method == "POST" and Capability.DECIDE not in granted:
        # Refused outright: the service's refusal would otherwise show as a form error (200).
        raise PermissionDenied()
    evaluation = rules_selectors.current_evaluation(application.pk)
    form = DecisionForm(
        request.POST or None,
        default_amount=services.default_amount(fund, evaluation),
        from_evaluation=evaluation is not None and evaluation.eligible,
        currency=fund.currency,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_decision(
                actor=request.user,
                application=application,
                outcome=form.cleaned_data["outcome"],
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("staff_application", slug=fund.slug, reference=application.reference)
    return _render_detail(request, fund, application, granted, form=form, evaluation=evaluation)


def _render_detail(
    request: HttpRequest,
    fund: Fund,
    application: Application,
    granted: frozenset[Capability],
    *,
    form: DecisionForm,
    evaluation: ApplicationEvaluation | None,
    message_form: StaffMessageForm | None = None,
) -> HttpResponse:
    can_decide = Capability.DECIDE in granted
    language = _language()
    labels = dict(_document_choices(fund, language))
    if can_decide and message_form is None:
        message_form = StaffMessageForm(documents=list(labels.items()))
    return render(
        request,
        "review/application_detail.html",
        {
            "fund": fund,
            "application": application,
            "decision": selectors.decision_for(application.pk),
            "form": form,
            "can_decide": can_decide,
            "answers": application_selectors.declared_answers(application, language),
            "documents": [
                (labels.get(document.requirement, document.requirement), document)
                for document in application.documents.all()
            ],
            "thread": [
                (message, [labels.get(code, code) for code in message.requested_documents])
                for message in application_selectors.messages_of(application)
            ],
            "message_form": message_form if can_decide else None,
            "can_evaluate": bool(granted & rules_services.EVALUATING_CAPABILITIES)
            and application.status in rules_services.PENDING_STATUSES
            and rules_selectors.has_published_rules(fund.pk),
            "evaluation": evaluation,
            "criteria": criteria_rows(evaluation) if evaluation is not None else [],
            "verification": application_verification(
                application, evaluation=evaluation, language=language
            ),
            "verified": evidence_selectors.verification_of(application),
            "declarations": evidence_selectors.declarations_for(application.nir),
            "rights": evidence_selectors.rights_for(application.nir),
            "benefits": evidence_selectors.benefits_for(application.nir),
            "cancellations": evidence_selectors.cancellations_for(application.nir),
            "history": audit_selectors.events_for(application).select_related("actor"),
        },
    )


def _language() -> str:
    return "en" if (get_language() or "fr").startswith("en") else "fr"


def _document_choices(fund: Fund, language: str) -> list[tuple[str, str]]:
    """``(code, label)`` of the documents the fund asks applicants for."""
    return [
        (r.code, str(fund_selectors.text_in(r, "label", language)))
        for r in fund_selectors.document_requirements(fund)
    ]


@login_required
@require_POST
def write_to_applicant(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """A message to the applicant, which may ask for information or documents (for those who
    decide)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    application = application_selectors.application_for_staff(request.user, fund, reference)
    granted = capabilities(request.user, fund)
    if Capability.DECIDE not in granted:
        raise PermissionDenied()
    form = StaffMessageForm(request.POST, documents=_document_choices(fund, _language()))
    if form.is_valid():
        try:
            application_services.send_staff_message(
                actor=request.user,
                application=application,
                body=form.cleaned_data["body"],
                request_information=form.cleaned_data["request_information"],
                requested_documents=form.cleaned_data.get("requested_documents", []),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your message was sent to the applicant."))
            return redirect("staff_application", slug=fund.slug, reference=application.reference)
    evaluation = rules_selectors.current_evaluation(application.pk)
    decision_form = DecisionForm(
        default_amount=services.default_amount(fund, evaluation),
        from_evaluation=evaluation is not None and evaluation.eligible,
        currency=fund.currency,
    )
    return _render_detail(
        request,
        fund,
        application,
        granted,
        form=decision_form,
        evaluation=evaluation,
        message_form=form,
    )


@login_required
@require_POST
def evaluate_again(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Evaluate the application under the rules in force (for those who decide or manage)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    application = application_selectors.application_for_staff(request.user, fund, reference)
    before = rules_selectors.current_evaluation(application.pk)
    try:
        evaluation = rules_services.evaluate_application(
            actor=request.user, application=application
        )
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        if before is not None and before.pk == evaluation.pk:
            messages.info(request, _("Evaluated again: nothing has changed."))
        else:
            messages.success(request, _("The application was evaluated again."))
    return redirect("staff_application", slug=fund.slug, reference=application.reference)


@login_required
@require_POST
def export_start(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.EXPORT)
    task_id = application_services.request_applications_export(actor=request.user, fund=fund)
    return redirect("export_status", slug=fund.slug, task_id=task_id)


def _export_of_fund(request: HttpRequest, slug: str, task_id: str) -> tuple[Fund, TaskResult]:
    """The export task, only if it belongs to this fund and the person may export from it."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.EXPORT)
    return fund, fund_task_result(export_fund_applications, task_id, fund.pk)


@login_required
@require_safe
def export_status(request: HttpRequest, slug: str, task_id: str) -> HttpResponse:
    fund, result = _export_of_fund(request, slug, task_id)
    return render(
        request,
        "review/export_status.html",
        {"fund": fund, "result": result, "progress": progress_of(task_id), "task_id": task_id},
    )


@login_required
@require_safe
def export_download(request: HttpRequest, slug: str, task_id: str) -> FileResponse:
    fund, result = _export_of_fund(request, slug, task_id)
    progress = progress_of(task_id)
    if not result.is_finished or progress is None or not progress.output_path:
        raise Http404
    return FileResponse(
        open(progress.output_path, "rb"),
        as_attachment=True,
        filename=f"{fund.slug}-applications.csv",
    )
