"""Reading applications: an applicant sees only their own; staff only those of their funds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy

from entraide.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationDraft,
    ApplicationMessage,
)
from entraide.applications.search import search
from entraide.applications.submission import ASKED_IN_OWN_STEPS
from entraide.core.keyset import KeysetPage, capped_counts, page_of
from entraide.evidence import selectors as evidence_selectors
from entraide.funds import selectors as fund_selectors
from entraide.funds import window
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, capabilities, require
from entraide.review import selectors as review_selectors
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
    CONTRADICTED_BY_RECORDS: evidence_selectors.records_contradict,
    OUTCOME_CHANGED: evidence_selectors.outcome_changed,
}
UNASSIGNED = "none"


class Queue(models.TextChoices):
    """The back office's work lists of a fund."""

    ALL = "all", pgettext_lazy("queue", "All")
    NEW = "new", pgettext_lazy("queue", "New")
    AUTO_ELIGIBLE = "auto_eligible", pgettext_lazy("queue", "Eligible, records agree")
    MISMATCHES = "mismatches", pgettext_lazy("queue", "Contradicted by the records")
    INFO_REQUESTED = "info_requested", pgettext_lazy("queue", "Information requested")
    FLAGGED = "flagged", pgettext_lazy("queue", "Flagged")
    WAITLIST = "waitlist", pgettext_lazy("queue", "Waiting list")
    SECOND_APPROVAL = "second_approval", pgettext_lazy("queue", "Second approval")
    MINE = "mine", pgettext_lazy("queue", "Assigned to me")


class Sort(models.TextChoices):
    OLDEST = "oldest", pgettext_lazy("sort", "Submitted first")
    NEWEST = "newest", pgettext_lazy("sort", "Submitted last")
    NAME = "name", pgettext_lazy("sort", "Name")
    REFERENCE = "reference", pgettext_lazy("sort", "Reference")


# Each sort's keys, the last one unique (pages are found from the keys of their edge rows),
# and whether they descend. An index of the applications serves each (migration 0004).
SORT_KEYS: dict[str, tuple[tuple[str, ...], bool]] = {
    Sort.OLDEST: (("submitted_at", "id"), False),
    Sort.NEWEST: (("submitted_at", "id"), True),
    Sort.NAME: (("last_name", "first_name", "id"), False),
    Sort.REFERENCE: (("reference",), False),
}


@dataclass(frozen=True)
class ListFilters:
    """What a list of a fund's applications shows. ``assignee``: a reviewer's id,
    ``UNASSIGNED``, or empty for anyone; ``sort`` empty: the queue's own order."""

    queue: str = Queue.ALL
    status: str = ""
    records: str = ""
    assignee: str = ""
    profession: str = ""
    partner: int | None = None
    search: str = ""
    sort: str = ""


def _queue_conditions(queue: str, user: Any, fund: Fund) -> list[Any]:
    match queue:
        case Queue.NEW:
            return [Q(status=Application.Status.RECEIVED)]
        case Queue.AUTO_ELIGIBLE:
            # Ready for an approval without a person's look: not waiting for the applicant,
            # nor for budget, nor for a second approver, and nothing flagged.
            return [
                Q(status__in=[Application.Status.RECEIVED, Application.Status.UNDER_REVIEW]),
                rules_selectors.eligible_now(),
                evidence_selectors.records_agree(),
                ~review_selectors.has_open_flag(fund),
                ~review_selectors.waits_for_second_approval(fund),
            ]
        case Queue.MISMATCHES:
            return [evidence_selectors.records_contradict()]
        case Queue.INFO_REQUESTED:
            return [Q(status=Application.Status.INFO_REQUESTED)]
        case Queue.FLAGGED:
            return [review_selectors.has_open_flag(fund)]
        case Queue.WAITLIST:
            return [fund_selectors.waitlisted(fund)]
        case Queue.SECOND_APPROVAL:
            return [review_selectors.waits_for_second_approval(fund)]
        case Queue.MINE:
            return [review_selectors.assigned_to(fund, user)]
    return []


def applications_for_staff(
    user: Any, fund: Fund, filters: ListFilters | None = None
) -> QuerySet[Application]:
    """The fund's applications that ``filters`` keep, in their order."""
    require(user, fund, Capability.VIEW_APPLICATIONS)
    return _filtered(user, fund, filters or ListFilters())


def _filtered(user: Any, fund: Fund, filters: ListFilters) -> QuerySet[Application]:
    queryset = Application.objects.filter(*_queue_conditions(filters.queue, user, fund), fund=fund)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.records:
        queryset = queryset.filter(RECORDS_FILTERS[filters.records]())
    if filters.assignee == UNASSIGNED:
        queryset = queryset.filter(review_selectors.unassigned())
    elif filters.assignee:
        queryset = queryset.filter(review_selectors.assigned_to(fund, filters.assignee))
    if filters.profession:
        queryset = queryset.filter(profession=filters.profession)
    if filters.partner is not None:
        queryset = queryset.filter(partner_id=filters.partner)
    keys, descending = _order_of(filters)
    return search(queryset, filters.search).order_by(
        *(F(key).desc() if descending else F(key).asc() for key in keys)
    )


def _order_of(filters: ListFilters) -> tuple[tuple[str, ...], bool]:
    if not filters.sort and filters.queue == Queue.WAITLIST:
        return fund_selectors.WAITING_ORDER, False
    return SORT_KEYS.get(filters.sort, SORT_KEYS[Sort.OLDEST])


def _row_details(queryset: QuerySet[Application]) -> QuerySet[Application]:
    """What each row of the list shows: the records' verdict, the assignee, the rules'
    result and amount, the open flags, in the page's one query."""
    return queryset.select_related(
        evidence_selectors.VERIFICATION, review_selectors.ASSIGNEE
    ).annotate(
        **rules_selectors.current_outcome_columns(),
        open_flags=review_selectors.open_flag_count(),
    )


def queue_page(
    user: Any,
    fund: Fund,
    filters: ListFilters,
    *,
    size: int,
    number: int = 1,
    after: str = "",
    before: str = "",
) -> KeysetPage:
    """A page of the list (two queries: the capped count, the rows)."""
    keys, descending = _order_of(filters)
    return page_of(
        applications_for_staff(user, fund, filters),
        keys,
        descending=descending,
        size=size,
        number=number,
        after=after,
        before=before,
        rows=_row_details,
    )


def queue_ids(user: Any, fund: Fund, filters: ListFilters, *, limit: int) -> list[int]:
    """The ids of the first ``limit`` applications of the list, in its order."""
    return list(applications_for_staff(user, fund, filters).values_list("pk", flat=True)[:limit])


def queue_counts(user: Any, fund: Fund) -> list[tuple[str, str, int, bool]]:
    """``(queue, label, count, more)`` of every queue, counted up to the cap, in one query."""
    require(user, fund, Capability.VIEW_APPLICATIONS)
    counts = capped_counts([_filtered(user, fund, ListFilters(queue)) for queue in Queue])
    return [
        (queue, str(label), count, more)
        for (queue, label), (count, more) in zip(Queue.choices, counts, strict=True)
    ]


def submissions_per_day(fund: Fund) -> list[tuple[dt.date, int]]:
    """Applications submitted each day of the fund's window on the fund's clock, up to today
    (days without any included), in one query."""
    opens_at, closes_at = window.bounds(fund)
    counts = dict(
        Application.objects.filter(
            fund=fund,
            submitted_at__gte=opens_at,
            submitted_at__lt=closes_at + window.CLOSING_MINUTE,
        )
        .annotate(day=TruncDate("submitted_at", tzinfo=ZoneInfo(fund.time_zone)))
        .order_by()
        .values_list("day")
        .annotate(count=Count("pk"))
    )
    last = min(fund.closes_on, fund.local_today())
    days = (fund.opens_on + dt.timedelta(days=n) for n in range((last - fund.opens_on).days + 1))
    return [(day, counts.get(day, 0)) for day in days]


def application_for_staff(user: Any, fund: Fund, reference: str) -> Application:
    """With its fund and what the latest verification against the records found."""
    return get_object_or_404(
        applications_for_staff(user, fund).select_related("fund", "verification__run"),
        reference=reference,
    )


def lock_application(application_id: int) -> Application:
    # The application row only (not its fund, which decisions lock first), and NO KEY UPDATE so
    # that rows referencing it (flags, assignments, messages) can still be written meanwhile.
    return (
        Application.objects.select_for_update(of=("self",), no_key=True)
        .select_related("fund")
        .get(pk=application_id)
    )


def lock_applications(application_ids: QuerySet[Any, Any]) -> None:
    """Lock the applications a sub-query gives, in one order (by id), for the rest of the
    transaction: an action on many of them does not deadlock with one on a single one."""
    list(
        Application.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=application_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


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
    reference, nir_index (the person, as the evidence knows them), submitted_at, status,
    profession, birth_date, declared."""
    return (
        Application.objects.filter(fund=fund)
        .order_by("pk")
        .values_list(
            "pk",
            "reference",
            "nir_index",
            "submitted_at",
            "status",
            "profession",
            "birth_date",
            "declared",
        )
    )


def submitted_at_of(outer_field: str) -> Subquery:
    """An expression: the submission time of the application whose id ``outer_field`` (of the
    outer query) holds."""
    return Subquery(Application.objects.filter(pk=OuterRef(outer_field)).values("submitted_at")[:1])


def nir_indexes_of_fund(fund: Fund) -> QuerySet[Application, Any]:
    """The blind indexes of the NIRs of a fund's applicants, as a sub-query."""
    return Application.objects.filter(fund=fund).values("nir_index")


def ids_of_fund(fund: Fund) -> QuerySet[Application, Any]:
    """The ids of a fund's applications, as a sub-query."""
    return Application.objects.filter(fund=fund).values("pk")


def fund_ids_of_applicants(nir_indexes: QuerySet[Any, Any]) -> QuerySet[Application, Any]:
    """The funds having an application of one of these people (a sub-query of NIR blind
    indexes), as a sub-query of distinct fund ids."""
    return (
        Application.objects.filter(nir_index__in=nir_indexes)
        .values("fund_id")
        .distinct()
        .order_by()
    )


@dataclass(frozen=True)
class Payee:
    """Who an application's grant is paid to, as a payment batch needs it."""

    application_id: int
    reference: str
    account_holder: str
    iban: str
    bic: str


def payees(application_ids: QuerySet[Any, Any]) -> dict[int, Payee]:
    """The bank details of the applications a sub-query gives (one query, any number)."""
    rows = Application.objects.filter(pk__in=application_ids).values_list(
        "pk", "reference", "account_holder", "iban", "bic"
    )
    return {row[0]: Payee(*row) for row in rows.iterator(chunk_size=5000)}


# What duplicate detection compares (entraide.integrity.records.ApplicantRecord), id first:
# the NIR and the IBAN by their blind indexes, never in clear.
IDENTITY_FIELDS = (
    "pk",
    "nir_index",
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone",
    "address_line",
    "postcode",
    "city",
    "iban_index",
    "account_holder",
)


def identities_in_funds(fund_ids: list[int]) -> QuerySet[Application, tuple[Any, ...]]:
    """The identities of every application of these funds (:data:`IDENTITY_FIELDS`)."""
    return (
        Application.objects.filter(fund_id__in=fund_ids)
        .order_by("pk")
        .values_list(*IDENTITY_FIELDS)
    )


# The identifiers an application shares exactly with another's (integrity.signals.REASONS),
# by the columns compared.
SHARED_IDENTIFIERS = {"nir": "nir_index", "iban": "iban_index", "email": "email", "phone": "phone"}


def crowded_identifiers(
    application: Application, fund_ids: list[int], *, more_than: int
) -> list[str]:
    """The application's identifiers held by more than ``more_than`` applications of these
    funds (a placeholder telephone, an organisation's account): one query per identifier, each
    reading at most ``more_than + 1`` rows of an index."""
    crowded = []
    for name, column in SHARED_IDENTIFIERS.items():
        value = getattr(application, column)
        if value:
            holders = Application.objects.filter(fund_id__in=fund_ids, **{column: value})
            if holders.values("pk")[: more_than + 1].count() > more_than:
                crowded.append(name)
    return crowded


def identity_candidates(
    application: Application,
    fund_ids: list[int],
    *,
    limit: int,
    leaving_out: Collection[str] = (),
) -> QuerySet[Application, tuple[Any, ...]]:
    """The identities of the ``limit`` most recent other applications of these funds that share
    the application's NIR, IBAN, e-mail address, telephone (those ``leaving_out`` excepted) or
    date of birth. One lookup per identifier, each reading its index (an OR of them makes
    SQLite read the whole fund), then their identities."""
    lookups = [Q(birth_date=application.birth_date)] + [
        Q(**{column: getattr(application, column)})
        for name, column in SHARED_IDENTIFIERS.items()
        if getattr(application, column) and name not in leaving_out
    ]
    others = Application.objects.filter(fund_id__in=fund_ids).exclude(pk=application.pk)
    ids: set[int] = set()
    for lookup in lookups:
        ids.update(others.filter(lookup).order_by("-pk").values_list("pk", flat=True)[:limit])
    return (
        Application.objects.filter(pk__in=sorted(ids, reverse=True)[:limit])
        .order_by("-pk")
        .values_list(*IDENTITY_FIELDS)
    )


def references_from_origin(
    application: Application, fund_ids: list[int], *, since: dt.datetime, limit: int
) -> list[tuple[int, str]]:
    """(id, reference) of the last ``limit`` applications of these funds submitted from the
    application's origin from ``since`` until it, itself included, in order of submission
    (none without an origin)."""
    if not application.origin:
        return []
    latest = (
        Application.objects.filter(
            fund_id__in=fund_ids,
            origin=application.origin,
            submitted_at__gte=since,
            submitted_at__lte=application.submitted_at,
        )
        .order_by("-submitted_at", "-pk")
        .values_list("pk", "reference")[:limit]
    )
    return list(reversed(latest))


def ids_in(ids: list[int]) -> QuerySet[Application, Any]:
    """These application ids, as a sub-query (of those that exist)."""
    return Application.objects.filter(pk__in=ids).values("pk")


def applications_by_ids(ids: list[int]) -> dict[int, Application]:
    """The applications with these ids (with their funds), by id."""
    return Application.objects.select_related("fund").in_bulk(ids)


def funds_of_applications(fund_ids: list[int]) -> QuerySet[Application, tuple[int, int]]:
    """(id, fund id) of every application of these funds."""
    return Application.objects.filter(fund_id__in=fund_ids).values_list("pk", "fund_id")


def references_by_id(ids: list[int], *, chunk: int = 2000) -> dict[int, str]:
    """The references of these applications, by id (read in chunks: there may be thousands)."""
    found: dict[int, str] = {}
    for start in range(0, len(ids), chunk):
        found.update(
            Application.objects.filter(pk__in=ids[start : start + chunk]).values_list(
                "pk", "reference"
            )
        )
    return found


def counts_by_fund(fund_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(applications, of which granted: approved or paid) of each of these funds, one query;
    counts only, for a programme's roll-up."""
    granted = [Application.Status.APPROVED, Application.Status.PAID]
    rows = (
        Application.objects.filter(fund_id__in=fund_ids)
        .values_list("fund_id")
        .annotate(total=Count("pk"), granted=Count("pk", filter=Q(status__in=granted)))
        .order_by()
    )
    return {fund_id: (total, granted_count) for fund_id, total, granted_count in rows}
