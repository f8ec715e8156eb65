"""Reading applications: an applicant sees only their own; staff only those of their funds."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import get_language

from entraide.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationDraft,
    ApplicationMessage,
)
from entraide.applications.submission import ASKED_IN_OWN_STEPS
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, capabilities, require
from entraide.rules import selectors as rules_selectors
from entraide.rules.declared import questions
from entraide.rules.presenters import display_value


def applications_of_applicant(user: Any) -> QuerySet[Application]:
    if not user.is_authenticated:
        return Application.objects.none()
    return (
        Application.objects.filter(applicant=user).select_related("fund").order_by("-submitted_at")
    )


def application_of_applicant(user: Any, reference: str) -> Application:
    """404 for anyone else's application, so references cannot be probed."""
    return get_object_or_404(applications_of_applicant(user), reference=reference)


# What the latest verification against the records found (``evidence.ApplicationVerification``).
CONTRADICTED_BY_RECORDS = "contradicted"
OUTCOME_CHANGED = "changed"
RECORDS_FILTERS = {
    CONTRADICTED_BY_RECORDS: Q(verification__has_mismatch=True),
    OUTCOME_CHANGED: Q(verification__changed=True),
}


def applications_for_staff(
    user: Any, fund: Fund, *, status: str | None = None, search: str = "", records: str = ""
) -> QuerySet[Application]:
    """``records``: one of ``RECORDS_FILTERS``, or empty for every application."""
    require(user, fund, Capability.VIEW_APPLICATIONS)
    queryset = Application.objects.filter(fund=fund)
    if status:
        queryset = queryset.filter(status=status)
    if records:
        queryset = queryset.filter(RECORDS_FILTERS[records])
    if search:
        term = search.strip()
        queryset = queryset.filter(
            Q(reference__iexact=term)
            | Q(last_name__icontains=term)
            | Q(first_name__icontains=term)
            | Q(email__iexact=term)
        )
    return queryset.order_by("submitted_at", "pk")


def application_for_staff(user: Any, fund: Fund, reference: str) -> Application:
    """With its fund and what the latest verification against the records found."""
    return get_object_or_404(
        applications_for_staff(user, fund).select_related("fund", "verification__run"),
        reference=reference,
    )


def lock_application(application_id: int) -> Application:
    return Application.objects.select_for_update().select_related("fund").get(pk=application_id)


def status_counts(fund: Fund) -> list[tuple[str, str, int]]:
    """``(status, label, count)`` for every status, zeros included, in one query."""
    counts = dict(
        Application.objects.filter(fund=fund)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        (value, str(label), counts.get(value, 0)) for value, label in Application.Status.choices
    ]


def application_by_id(application_id: int) -> Application:
    return Application.objects.select_related("fund").get(pk=application_id)


def message_by_id(message_id: int) -> ApplicationMessage:
    return ApplicationMessage.objects.select_related("application__fund").get(pk=message_id)


def messages_of(application: Application) -> list[ApplicationMessage]:
    """The thread of the application with each message's documents, in two queries."""
    return list(
        ApplicationMessage.objects.filter(application=application)
        .select_related("author")
        .prefetch_related("documents")
    )


def status_url(application: Application) -> str:
    path = reverse("application_status", kwargs={"reference": application.reference})
    return f"{settings.PUBLIC_URL}{path}"


def draft_of(user: Any, fund: Fund) -> ApplicationDraft | None:
    if not user.is_authenticated:
        return None
    return ApplicationDraft.objects.filter(applicant=user, fund=fund).first()


def drafts_of_applicant(user: Any) -> QuerySet[ApplicationDraft]:
    if not user.is_authenticated:
        return ApplicationDraft.objects.none()
    return ApplicationDraft.objects.filter(applicant=user).select_related("fund")


def document_for(user: Any, document_id: int) -> ApplicationDocument:
    """A document for its owner, or for staff who may see the fund's applications; 404 for
    anyone else, so that documents cannot be probed. An infected file is never served."""
    document = get_object_or_404(
        ApplicationDocument.objects.exclude(scan=ApplicationDocument.Scan.INFECTED),
        pk=document_id,
    )
    if user.is_authenticated and document.owner_id == user.pk:
        return document
    # Staff open what the scanner passed (or every file, when no scanner is configured).
    if (
        document.application_id is not None
        and document.scan != ApplicationDocument.Scan.PENDING
        and Capability.VIEW_APPLICATIONS in capabilities(user, document.fund)
    ):
        return document
    raise Http404()


def declared_answers(application: Application, language: str) -> list[tuple[str, str]]:
    """``(question, answer)`` for what the applicant declared, labelled by the rules the
    application answered (those in force on the day it was submitted)."""
    document = rules_selectors.document_in_force(
        application.fund, application.fund.local_today(application.submitted_at)
    )
    if document is None:
        return [(key, str(value)) for key, value in application.declared.items()]
    return [
        (question.label.get(language), answer_text(question, application.declared.get(question.id)))
        for question in questions(document, skip=ASKED_IN_OWN_STEPS)
        if question.id in application.declared
    ]


def answer_text(question: Any, value: Any) -> str:
    """An answer in the reader's words: a choice by its label, yes/no, numbers and dates in
    the page's format."""
    if question.choices:
        chosen = next((c.label for c in question.choices if c.value == value), None)
        if chosen is not None:
            return chosen.get(get_language() or "fr")
    return display_value(value)


def submitted_values(fund: Fund) -> QuerySet[Application, tuple[Any, ...]]:
    """Every application of a fund as plain values, for work on all of them at once: id,
    reference, nir, submitted_at, status, profession, birth_date, declared."""
    return (
        Application.objects.filter(fund=fund)
        .order_by("pk")
        .values_list(
            "pk",
            "reference",
            "nir",
            "submitted_at",
            "status",
            "profession",
            "birth_date",
            "declared",
        )
    )


def nirs_of_fund(fund: Fund) -> QuerySet[Application, Any]:
    """The NIRs of a fund's applicants, as a sub-query."""
    return Application.objects.filter(fund=fund).values("nir")


def ids_of_fund(fund: Fund) -> QuerySet[Application, Any]:
    """The ids of a fund's applications, as a sub-query."""
    return Application.objects.filter(fund=fund).values("pk")


def fund_ids_of_applicants(nirs: QuerySet[Any, Any]) -> QuerySet[Application, Any]:
    """The funds having an application of one of these people (a sub-query of NIRs), as a
    sub-query of distinct fund ids."""
    return Application.objects.filter(nir__in=nirs).values("fund_id").distinct().order_by()
