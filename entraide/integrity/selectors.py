"""Reading the integrity checks for the back office: a fund's links (its queue), one link with
what its two applications say, the fund's full checks, its report, and the panel of an
application's page. The views check who may read; every query here is bounded."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, F, Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils.translation import pgettext, pgettext_lazy

from entraide.applications import selectors as application_selectors
from entraide.applications.models import Application
from entraide.core.dates import format_day
from entraide.core.keyset import KeysetPage, capped_counts, page_of
from entraide.core.masking import HIDDEN, mask_identifier
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, funds_with_capability
from entraide.integrity import linkage
from entraide.integrity.models import Link, LinkageRun, PersonRecord
from entraide.integrity.signals import (
    POSSIBLE_DUPLICATE,
    REASON_LABELS,
    REASONS,
    SAME_PERSON,
    SHARED_ACCOUNT,
    SHARED_CONTACT,
    SHARED_ORIGIN,
)
from entraide.review import selectors as review_selectors
from entraide.review.flags import code_label

# The flags the platform's integrity checks raise, in the order the report shows them.
REPORT_CODES = (POSSIBLE_DUPLICATE, SAME_PERSON, SHARED_ACCOUNT, SHARED_CONTACT, SHARED_ORIGIN)
# The last full checks shown on the queue's page.
RECENT_RUNS = 10
# The other links of a link's applications, and the links of an application's page, shown at
# most (a value shared by many is reported by the full check rather than linked pair by pair).
NEIGHBOURS = 50
# Entries of a check's "values shared by too many applications" per page.
CROWDED_PAGE = 20


class Queue(models.TextChoices):
    """The lists of a fund's links."""

    TO_REVIEW = "review", pgettext_lazy("integrity queue", "To review")
    OPEN = "open", pgettext_lazy("integrity queue", "All open")
    CONFIRMED = "confirmed", pgettext_lazy("integrity queue", "Same person")
    DISMISSED = "dismissed", pgettext_lazy("integrity queue", "Different people")


_QUEUE_CONDITIONS: dict[str, Q] = {
    Queue.TO_REVIEW: Q(status=Link.Status.OPEN, flagged=True),
    Queue.OPEN: Q(status=Link.Status.OPEN),
    Queue.CONFIRMED: Q(status=Link.Status.CONFIRMED),
    Queue.DISMISSED: Q(status=Link.Status.DISMISSED),
}
# Work is done oldest first; decisions are read newest first. The last key is unique.
_KEYS = ("found_at", "id")
_DESCENDING = {Queue.CONFIRMED, Queue.DISMISSED}


def involving(fund: Fund) -> Q:
    """The links with an application of the fund, on either side (each side has its index)."""
    return Q(left_fund=fund) | Q(right_fund=fund)


def links_of_fund(fund: Fund, queue: str = Queue.TO_REVIEW) -> QuerySet[Link]:
    return Link.objects.filter(involving(fund), _QUEUE_CONDITIONS[queue])


def queue_counts(fund: Fund) -> list[tuple[str, str, int, bool]]:
    """``(queue, label, count, more)`` of every list, counted up to the cap, in one query."""
    counts = capped_counts([links_of_fund(fund, queue) for queue in Queue])
    return [
        (queue, str(label), count, more)
        for (queue, label), (count, more) in zip(Queue.choices, counts, strict=True)
    ]


def _with_sides(links: QuerySet[Link]) -> QuerySet[Link]:
    """The references of both applications and both funds, in the rows' one query."""
    return links.select_related("left_fund", "right_fund").annotate(
        left_reference=F("left__reference"), right_reference=F("right__reference")
    )


def queue_page(
    fund: Fund, queue: str, *, size: int, number: int = 1, after: str = "", before: str = ""
) -> KeysetPage:
    """A page of a list of the fund's links (two queries: the capped count, the rows)."""
    return page_of(
        links_of_fund(fund, queue),
        _KEYS,
        descending=queue in _DESCENDING,
        size=size,
        number=number,
        after=after,
        before=before,
        rows=_with_sides,
    )


def viewable_fund_ids(user: Any) -> set[int]:
    """The funds whose applications' pages the person may open."""
    return set(
        funds_with_capability(user, Capability.VIEW_APPLICATIONS)
        .order_by()
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class Side:
    """One application of a link as a row shows it: its reference, its fund, and whether the
    reader may open its page."""

    reference: str
    fund: Fund
    viewable: bool


@dataclass(frozen=True)
class LinkRow:
    link: Link
    own: Side  # the application of the fund whose page this is (the left one if both are)
    other: Side
    reasons: list[str]
    # The link's page is under this fund (a neighbour may not involve it).
    involves_fund: bool


def reason_labels(reasons: Sequence[str]) -> list[str]:
    return [str(REASON_LABELS.get(reason, reason)) for reason in reasons]


def row_of(link: Link, fund_id: int, viewable: set[int], *, own_id: int | None = None) -> LinkRow:
    """A link annotated by :func:`_with_sides`, seen from the fund ``fund_id``, or from its
    application ``own_id``."""
    if own_id is None:
        own_is_left = link.left_fund_id == fund_id or link.right_fund_id != fund_id
    else:
        own_is_left = link.left_id == own_id
    left = Side(link.left_reference, link.left_fund, link.left_fund_id in viewable)  # type: ignore[attr-defined]
    right = Side(link.right_reference, link.right_fund, link.right_fund_id in viewable)  # type: ignore[attr-defined]
    return LinkRow(
        link=link,
        own=left if own_is_left else right,
        other=right if own_is_left else left,
        reasons=reason_labels(link.reasons),
        involves_fund=fund_id in (link.left_fund_id, link.right_fund_id),
    )


# -- one link ----------------------------------------------------------------------------------


def link_of_fund(fund: Fund, link_id: int) -> Link:
    """A link with an application of the fund, with both applications and funds (404 for any
    other, so that links cannot be probed)."""
    return get_object_or_404(
        Link.objects.filter(involving(fund))
        .select_related("left", "right", "left_fund", "right_fund", "decided_by", "run")
        .defer("run__model", "run__crowded"),
        pk=link_id,
    )


@dataclass(frozen=True)
class Comparison:
    """One compared field of a link: both values as shown to a reviewer, how alike the model
    found them and what that weighed (a log2 Bayes factor: positive for the same person,
    negative against)."""

    label: str
    left: str
    right: str
    level: str
    weight: float | None
    bar: int  # the weight's length in % of the link's largest one


def _ends(value: str) -> str:
    """A contact by its last characters, as typed ("•••• .org", "•••• 6 78")."""
    if not value:
        return ""
    return f"{HIDDEN} {value[-4:]}" if len(value) > 4 else HIDDEN


def _shown(application: Application, field: str, *, in_full: bool) -> str:
    """What a reviewer reads of a field: NIR and IBAN always masked (decrypted here only to be
    masked: a page never shows them in clear, and the link compared their blind indexes), and
    of another fund's application (``in_full`` False) the contacts by their ends and the
    address by its town."""
    town = f"{application.postcode} {application.city}".strip()
    match field:
        case "name":
            return application.full_name
        case "birth_date":
            return format_day(application.birth_date)
        case "nir" | "iban":
            return mask_identifier(getattr(application, field))
        case "address" if in_full:
            return ", ".join(part for part in (application.address_line, town) if part)
        case "address":
            return town
    value = str(getattr(application, field, "") or "")
    return value if in_full else _ends(value)


def _level_text(field: str, level: int) -> str:
    """The level's meaning; a level the current model does not have (a link scored by an
    older one) by its number."""
    try:
        return linkage.level_label(field, level)
    except (KeyError, ValueError):
        return pgettext("integrity level", "level %(level)s") % {"level": level}


def comparisons(link: Link, viewable: set[int]) -> list[Comparison]:
    """Each field the model compares, in its order, with the evidence the link keeps. An
    application of a fund the reader may not view shows its name and date of birth (what a
    reviewer judges one person by) and only the ends of the rest."""
    evidence = {item["field"]: item for item in link.evidence}
    largest = max((abs(item["weight"]) for item in link.evidence), default=0) or 1
    rows = []
    for field in linkage.FIELDS:
        item = evidence.get(field)
        weight = float(item["weight"]) if item is not None else None
        rows.append(
            Comparison(
                label=str(linkage.FIELD_LABELS[field]),
                left=_shown(link.left, field, in_full=link.left_fund_id in viewable),
                right=_shown(link.right, field, in_full=link.right_fund_id in viewable),
                level=_level_text(field, item["level"]) if item is not None else "",
                weight=weight,
                bar=round(abs(weight) * 100 / largest) if weight is not None else 0,
            )
        )
    return rows


def neighbours(link: Link, fund: Fund, viewable: set[int]) -> list[LinkRow]:
    """The fund's other links of either of the link's applications (one query): a link
    between two other funds of the programme is theirs to see."""
    ids = [link.left_id, link.right_id]
    others = (
        _with_sides(Link.objects.filter(Q(left_id__in=ids) | Q(right_id__in=ids), involving(fund)))
        .exclude(pk=link.pk)
        .order_by("found_at", "pk")[:NEIGHBOURS]
    )
    return [row_of(other, fund.pk, viewable) for other in others]


@dataclass(frozen=True)
class PersonApplication:
    reference: str
    fund: Fund
    status: str
    added_at: dt.datetime


def people_of(
    application_ids: Sequence[int], viewable: set[int]
) -> dict[int, list[PersonApplication]]:
    """For each of these applications confirmed as one person's, every application of that
    person (itself included), in one query; the status only of those of ``viewable`` funds."""
    records = (
        PersonRecord.objects.filter(
            person_id__in=PersonRecord.objects.filter(application_id__in=application_ids).values(
                "person_id"
            )
        )
        .select_related("application__fund")
        .only(
            "person_id",
            "application_id",
            "added_at",
            "application__reference",
            "application__status",
            "application__fund",
        )
        .order_by("person_id", "added_at", "pk")
    )
    by_person: dict[int, list[PersonApplication]] = defaultdict(list)
    person_of: dict[int, int] = {}
    for record in records:
        application = record.application
        by_person[record.person_id].append(
            PersonApplication(
                application.reference,
                application.fund,
                application.get_status_display() if application.fund_id in viewable else "",
                record.added_at,
            )
        )
        person_of[record.application_id] = record.person_id
    return {pk: by_person[person_of[pk]] for pk in application_ids if pk in person_of}


# -- an application's page ---------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """The "possible duplicates" of an application: its links, and the other applications of
    the person it was confirmed as."""

    links: list[LinkRow]
    person: list[PersonApplication]


def panel_of(application: Application) -> Panel:
    """Two queries, however many links."""
    fund_id = application.fund_id
    links = _with_sides(Link.objects.filter(Q(left=application) | Q(right=application))).order_by(
        "found_at", "pk"
    )[:NEIGHBOURS]
    rows = [row_of(link, fund_id, {fund_id}, own_id=application.pk) for link in links]
    person = people_of([application.pk], {fund_id}).get(application.pk, [])
    return Panel(
        links=rows,
        person=[record for record in person if record.reference != application.reference],
    )


# -- full checks -------------------------------------------------------------------------------


def recent_runs(fund: Fund) -> list[LinkageRun]:
    """The fund's last full checks, newest first (without their model and long lists)."""
    return list(
        LinkageRun.objects.filter(fund=fund)
        .select_related("requested_by")
        .defer("model", "crowded")
        .order_by("-requested_at", "-pk")[:RECENT_RUNS]
    )


def run_of(fund: Fund, run_id: int) -> LinkageRun:
    return get_object_or_404(
        LinkageRun.objects.filter(fund=fund).select_related("requested_by").defer("model"),
        pk=run_id,
    )


@dataclass(frozen=True)
class Crowded:
    """A value (never shown) shared by too many applications to link them pair by pair."""

    label: str
    size: int
    references: list[str]


def crowded(entries: Sequence[dict[str, Any]]) -> list[Crowded]:
    """A page of a check's crowded values, with the references of their applications (one
    query for the page)."""
    ids = sorted({pk for entry in entries for pk in entry["applications"]})
    references = application_selectors.references_by_id(ids)
    return [
        Crowded(
            label=str(linkage.FIELD_LABELS.get(entry["key"], entry["key"])),
            size=entry["size"],
            references=[references[pk] for pk in entry["applications"] if pk in references],
        )
        for entry in entries
    ]


def groups(run: LinkageRun) -> list[list[str]]:
    """The largest groups a full check found, by their applications' references (one
    query)."""
    references = application_selectors.references_by_id(
        sorted({pk for group in run.groups for pk in group})
    )
    return [[references[pk] for pk in group if pk in references] for group in run.groups]


# -- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagLine:
    label: str
    raised: int
    open: int

    @property
    def resolved(self) -> int:
        return self.raised - self.open


@dataclass(frozen=True)
class Report:
    flags: list[FlagLine]
    by_status: list[tuple[str, int]]
    by_reason: list[tuple[str, int]]
    scored_only: int  # links without a shared identifier: the model's resemblance alone
    people: int  # confirmed with more than one application
    people_applications: int
    people_across_funds: int


def report(fund: Fund) -> Report:
    """What the checks found on the fund's applications: flags, links, people (three
    queries)."""
    flag_counts = review_selectors.platform_flag_counts(fund, REPORT_CODES)
    as_text = Cast("reasons", TextField())
    # Reasons are ids of a closed list, each stored quoted in a JSON array.
    links = (
        Link.objects.filter(involving(fund))
        .annotate(reasons_text=as_text)
        .aggregate(
            **{
                f"status_{value}": Count("pk", filter=Q(status=value))
                for value in Link.Status.values
            },
            **{
                f"reason_{reason}": Count("pk", filter=Q(reasons_text__contains=f'"{reason}"'))
                for reason in REASONS
            },
            scored_only=Count("pk", filter=~Q(reasons_text__contains='"')),
        )
    )
    people = (
        PersonRecord.objects.filter(
            person_id__in=PersonRecord.objects.filter(application__fund=fund).values("person_id")
        )
        .values("person_id")
        .annotate(records=Count("pk"), funds=Count("application__fund", distinct=True))
        .filter(records__gt=1)
        .aggregate(
            people=Count("person_id"),
            applications=Sum("records"),
            across=Count("person_id", filter=Q(funds__gt=1)),
        )
    )
    return Report(
        flags=[FlagLine(code_label(code), *flag_counts.get(code, (0, 0))) for code in REPORT_CODES],
        by_status=[(str(label), links[f"status_{value}"]) for value, label in Link.Status.choices],
        by_reason=[(str(REASON_LABELS[reason]), links[f"reason_{reason}"]) for reason in REASONS],
        scored_only=links["scored_only"],
        people=people["people"] or 0,
        people_applications=people["applications"] or 0,
        people_across_funds=people["across"] or 0,
    )
