"""Back office of a fund: dashboard, the list of applications, deciding."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from entraide.applications import selectors as application_selectors
from entraide.applications import services as application_services
from entraide.applications.forms import StaffMessageForm
from entraide.applications.models import DECIDABLE_STATUSES, Application
from entraide.audit import selectors as audit_selectors
from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.evidence import selectors as evidence_selectors
from entraide.funds import ledger
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, capabilities
from entraide.intake import selectors as intake_selectors
from entraide.reporting.export_forms import ExportForm
from entraide.review import assignments, selectors, services
from entraide.review.desk_views import desk_context
from entraide.review.forms import DecisionForm, SecondApprovalAnswerForm
from entraide.review.list_forms import PAGE_PARAMETERS, ApplicationFilterForm
from entraide.review.messages import information_request
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
    granted = capabilities(request.user, fund)
    activity = []
    if Capability.VIEW_AUDIT in granted:
        activity = list(audit_selectors.events_for_fund(fund.pk)[:RECENT_ACTIVITY])
    sees_applications = Capability.VIEW_APPLICATIONS in granted
    return render(
        request,
        "review/dashboard.html",
        {
            "fund": fund,
            "counts": application_selectors.status_counts(fund),
            "budget": ledger.totals(fund),
            "waiting": ledger.waiting(fund).aggregate(count=Count("pk"), total=Sum("amount")),
            "second_approvals": selectors.second_approvals_waiting(fund).count(),
            "per_day": _bars(application_selectors.submissions_per_day(fund)),
            "queues": application_selectors.queue_counts(request.user, fund)
            if sees_applications
            else [],
            "capabilities": granted,
            "activity": activity,
            "verification": evidence_selectors.latest_verification(fund)
            if sees_applications
            else None,
        },
    )


def _bars(per_day: list[tuple[dt.date, int]]) -> dict[str, Any]:
    """The bars of the chart of applications per day: height in % of the busiest day."""
    busiest = max(per_day, key=lambda day: day[1], default=None)
    top = busiest[1] if busiest is not None else 0
    heights = [count * 100 / top if top else 0 for _day, count in per_day]
    return {
        "days": [
            {"day": day, "count": count, "x": index * 10, "y": 100 - height, "height": height}
            for index, ((day, count), height) in enumerate(zip(per_day, heights, strict=True))
        ],
        "width": len(per_day) * 10,
        "total": sum(count for _day, count in per_day),
        "busiest": busiest if top else None,
    }


@login_required
@require_safe
def application_list(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    granted = capabilities(request.user, fund)
    reviewers = assignments.reviewers_of(fund)
    form = ApplicationFilterForm(
        request.GET or None, reviewers=reviewers, partners=intake_selectors.partner_choices(fund)
    )
    form.is_valid()
    filters = form.filters()
    page = application_selectors.queue_page(
        request.user,
        fund,
        filters,
        size=settings.BACKOFFICE_PAGE_SIZE,
        number=_int(request.GET.get("page")),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    query = request.GET.copy()
    for name in PAGE_PARAMETERS:
        query.pop(name, None)
    other_filters = query.copy()
    other_filters.pop("queue", None)
    manages = Capability.MANAGE_FUND in granted
    return render(
        request,
        "review/application_list.html",
        {
            "fund": fund,
            "page": page,
            "filters": form,
            "queue": filters.queue,
            "queues": application_selectors.Queue.choices,
            "query": query.urlencode(),
            "here": request.GET.urlencode(),
            "other_filters": other_filters.urlencode(),
            # Who may assign: managers anyone to anyone, those who decide themselves.
            "can_assign": manages or Capability.DECIDE in granted,
            "manages": manages,
            "reviewers": reviewers if manages else [],
            "can_approve_queue": filters.queue == application_selectors.Queue.AUTO_ELIGIBLE
            and Capability.CONFIRM_APPROVAL in granted,
            # Exporting this list (its filters ride along): reporting.export_views.export_start.
            "export_form": ExportForm() if Capability.EXPORT in granted else None,
        },
    )


def _int(value: str | None) -> int:
    """A page number from the address; 1 for anything else (``isdigit`` alone lets "²" in)."""
    if value and len(value) <= 9 and value.isascii() and value.isdecimal():
        return int(value)
    return 1


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
    form = _decision_form(fund, evaluation, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            said = _decide(request, application, form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, said)
            return redirect(f"{_page_of(fund, application)}#decision")
    return _render_detail(request, fund, application, granted, form=form, evaluation=evaluation)


def _decision_form(
    fund: Fund, evaluation: ApplicationEvaluation | None, data: Any = None
) -> DecisionForm:
    return DecisionForm(
        data,
        default_amount=services.default_amount(fund, evaluation),
        from_evaluation=evaluation is not None and evaluation.eligible,
        amount_range=services.amount_range(evaluation),
        criteria=[(row.id, row.label, row.passed) for row in criteria_rows(evaluation)]
        if evaluation is not None
        else (),
        currency=fund.currency,
    )


def _page_of(fund: Fund, application: Application) -> str:
    return reverse("staff_application", args=[fund.slug, application.reference])


def _decide(request: HttpRequest, application: Application, data: dict[str, Any]) -> str:
    """Carry out the decision form; what to tell the reviewer."""
    match data["outcome"]:
        case DecisionForm.REJECT:
            services.reject_application(
                actor=request.user,
                application=application,
                reasons=data.get("reasons") or [],
                reason=data["reason"],
            )
            return _("The application is rejected; the applicant is told why.")
        case DecisionForm.WAITLIST:
            services.waitlist_application(
                actor=request.user, application=application, amount=data["amount"]
            )
            return _("The application waits on the waiting list for budget.")
    outcome = services.approve_application(
        actor=request.user, application=application, amount=data["amount"], note=data["note"]
    )
    if outcome.second_approval is not None:
        return _("The approval waits for a second approver.")
    if outcome.decision is None:
        return _("The budget is committed: the application waits on the waiting list.")
    return _("The application is approved; its grant is reserved in the budget.")


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
        # A request for information starts from the fund's wording (what is typed wins).
        message_form = StaffMessageForm(
            documents=list(labels.items()), initial={"body": information_request(application)}
        )
    return render(
        request,
        "review/application_detail.html",
        {
            "fund": fund,
            "application": application,
            "desk": desk_context(request.user, fund, application),
            "decision": selectors.decision_for(application.pk),
            # the review clock, for applications still waiting for a decision
            "review_days": application.review_time(timezone.now()).days
            if application.status in DECIDABLE_STATUSES
            or application.status == Application.Status.INFO_REQUESTED
            else None,
            "award": (award := ledger.award_of(application)),
            "waiting_position": ledger.waiting_position(award)
            if award is not None and award.status == award.Status.WAITLISTED
            else None,
            "second_approval": (pending := selectors.pending_second_approval(application.pk)),
            "second_approvals": selectors.second_approvals_of(application.pk),
            "can_answer_second": pending is not None
            and Capability.CONFIRM_APPROVAL in granted
            and pending.proposed_by_id != request.user.pk,
            "answer_form": SecondApprovalAnswerForm(),
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
            "declarations": evidence_selectors.declarations_for(application.nir_index),
            "rights": evidence_selectors.rights_for(application.nir_index),
            "benefits": evidence_selectors.benefits_for(application.nir_index),
            "cancellations": evidence_selectors.cancellations_for(application.nir_index),
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
    return _render_detail(
        request,
        fund,
        application,
        granted,
        form=_decision_form(fund, evaluation),
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
