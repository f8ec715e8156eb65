"""Reading a fund's rule versions and the evaluations of its applications.

Views reach these after ``funds.selectors.fund_for_staff`` has checked who may see the fund.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from entraide.core.ttl import TTLCache
from entraide.funds.models import Fund
from entraide.rules.document import RuleDocument, build
from entraide.rules.models import ApplicationEvaluation, RuleSetVersion


def versions_of(fund: Fund) -> QuerySet[RuleSetVersion]:
    """Every version of the fund's rules, newest first, with who made and published them."""
    return (
        RuleSetVersion.objects.filter(rule_set__fund=fund)
        .select_related("created_by", "published_by")
        .defer("source", "document")
        .order_by("-number")
    )


def version_of(fund: Fund, number: int) -> RuleSetVersion:
    """Version ``number`` of the fund's rules, or 404."""
    return get_object_or_404(
        RuleSetVersion.objects.select_related("rule_set", "created_by", "published_by"),
        rule_set__fund=fund,
        number=number,
    )


def version_by_id(version_id: int) -> RuleSetVersion:
    return RuleSetVersion.objects.select_related("rule_set__fund").get(pk=version_id)


def draft_of(fund: Fund) -> RuleSetVersion | None:
    return RuleSetVersion.objects.filter(
        rule_set__fund=fund, status=RuleSetVersion.Status.DRAFT
    ).first()


def latest_version(fund: Fund) -> RuleSetVersion | None:
    return RuleSetVersion.objects.filter(rule_set__fund=fund).order_by("-number").first()


def version_in_force(fund: Fund | int, at: dt.date) -> RuleSetVersion | None:
    """The published version that applies on ``at``: the one with the latest
    ``effective_from`` on or before that date (the higher number if two share the date)."""
    return _in_force(fund if isinstance(fund, int) else fund.pk, at).first()


def _in_force(fund_id: int, at: dt.date) -> QuerySet[RuleSetVersion]:
    """The fund's published versions effective on ``at``, the one in force first."""
    return RuleSetVersion.objects.filter(
        rule_set__fund_id=fund_id,
        status=RuleSetVersion.Status.PUBLISHED,
        effective_from__lte=at,
    ).order_by("-effective_from", "-number")


# Read by every submission; a version published reaches the other processes within
# ENTRAIDE_HOT_CACHE_SECONDS (this one at once). Keyed by the fund's creation too: ids alone
# may come back after a rollback.
_documents_in_force: TTLCache[RuleDocument] = TTLCache()


def document_in_force(fund: Fund, at: dt.date) -> RuleDocument | None:
    """The document of the version in force on ``at``. A published version never changes: its
    document is built once per process (known by its id and the moment it was published)."""
    return _documents_in_force.get_or_load(
        (fund.pk, fund.created_at, at), lambda: _read_document_in_force(fund.pk, at)
    )


def forget_documents_in_force() -> None:
    _documents_in_force.clear()


def _read_document_in_force(fund_id: int, at: dt.date) -> RuleDocument | None:
    found = _in_force(fund_id, at).values_list("pk", "published_at").first()
    return _published_document(*found) if found is not None else None


@lru_cache(maxsize=64)
def _published_document(version_id: int, published_at: dt.datetime) -> RuleDocument:
    return document_of(RuleSetVersion.objects.only("document").get(pk=version_id))


def current_version(fund: Fund) -> RuleSetVersion | None:
    """The published version in force today, in the fund's time zone."""
    return version_in_force(fund, fund.local_today())


def has_published_rules(fund_id: int) -> bool:
    return RuleSetVersion.objects.filter(
        rule_set__fund_id=fund_id, status=RuleSetVersion.Status.PUBLISHED
    ).exists()


def current_evaluation(application_id: int) -> ApplicationEvaluation | None:
    """The application's evaluation that counts now (with its version), if it was evaluated."""
    return (
        ApplicationEvaluation.objects.filter(application_id=application_id, is_current=True)
        .select_related("version", "evaluated_by")
        .first()
    )


def current_evaluations(application_ids: Any) -> dict[int, ApplicationEvaluation]:
    """The current evaluation of each application (a list of ids or a sub-query), in one query."""
    return {
        evaluation.application_id: evaluation
        for evaluation in ApplicationEvaluation.objects.filter(
            application_id__in=application_ids, is_current=True
        )
        .select_related("version")
        .defer("result")
    }


def current_outcomes(application_ids: Any) -> dict[int, tuple[bool, Decimal]]:
    """Eligible and amount of each application's current evaluation (ids or a sub-query)."""
    return {
        application_id: (eligible, amount)
        for application_id, eligible, amount in ApplicationEvaluation.objects.filter(
            application_id__in=application_ids, is_current=True
        ).values_list("application_id", "eligible", "amount")
    }


def eligible_now() -> Exists:
    """A filter of an application query: its current evaluation says eligible."""
    return Exists(
        ApplicationEvaluation.objects.filter(
            application=OuterRef("pk"), is_current=True, eligible=True
        )
    )


def current_outcome_columns() -> dict[str, Subquery]:
    """Annotations of an application query: ``rules_eligible`` and ``rules_amount`` of its
    current evaluation (None when it was not evaluated), one index look-up each per row."""
    current = ApplicationEvaluation.objects.filter(application=OuterRef("pk"), is_current=True)
    return {
        "rules_eligible": Subquery(current.values("eligible")[:1]),
        "rules_amount": Subquery(current.values("amount")[:1]),
    }


def document_of(version: RuleSetVersion) -> RuleDocument:
    """The version's validated document, built once per content and process."""
    return _built(json.dumps(version.document, sort_keys=True))


@lru_cache(maxsize=64)
def _built(canonical: str) -> RuleDocument:
    return build(json.loads(canonical))
