"""What the fund's records say about a person: for the staff's application page, and as the
plain records the rules engine reads (:mod:`entraide.rules.records`).

A person is found by the blind index of their NIR (``Application.nir_index``,
:func:`entraide.core.crypto.blind_index`): the records keep nothing else of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from entraide.applications.models import Application
from entraide.evidence.imports import SPECS
from entraide.evidence.models import (
    ApplicationVerification,
    BenefitRecord,
    CancellationRecord,
    EmployerDeclaration,
    EvidenceBatch,
    RightsRecord,
    VerificationRun,
)
from entraide.evidence.permissions import VIEW_BATCHES, require
from entraide.funds.models import Fund
from entraide.rules.records import Benefit, Cancellation, Declaration, PersonEvidence, Rights


def declarations_for(nir_index: str) -> QuerySet[EmployerDeclaration]:
    return EmployerDeclaration.objects.filter(nir_index=nir_index).order_by("start")


def rights_for(nir_index: str) -> QuerySet[RightsRecord]:
    return RightsRecord.objects.filter(nir_index=nir_index).order_by("opened_on")


def benefits_for(nir_index: str) -> QuerySet[BenefitRecord]:
    return BenefitRecord.objects.filter(nir_index=nir_index).order_by("start")


def cancellations_for(nir_index: str) -> QuerySet[CancellationRecord]:
    return CancellationRecord.objects.filter(nir_index=nir_index).order_by("date")


def batches_for(nir_index: str) -> QuerySet[EvidenceBatch]:
    """The batches that brought records of this person, oldest first (one query)."""
    return EvidenceBatch.objects.filter(
        Q(pk__in=EmployerDeclaration.objects.filter(nir_index=nir_index).values("batch_id"))
        | Q(pk__in=RightsRecord.objects.filter(nir_index=nir_index).values("batch_id"))
        | Q(pk__in=BenefitRecord.objects.filter(nir_index=nir_index).values("batch_id"))
        | Q(pk__in=CancellationRecord.objects.filter(nir_index=nir_index).values("batch_id"))
    ).order_by("loaded_at", "pk")


DECLARATION_COLUMNS = (
    "nir_index",
    "siret",
    "naf",
    "idcc",
    "contract_type",
    "start",
    "end",
    "hours",
    "cachets",
    "gross_pay",
)
RIGHTS_COLUMNS = ("nir_index", "annex", "opened_on", "ends_on", "status", "reason")
BENEFIT_COLUMNS = ("nir_index", "scheme", "start", "end")
CANCELLATION_COLUMNS = ("nir_index", "siret", "date", "cachets", "signed_on")


def person_evidence(nir_index: str) -> PersonEvidence:
    """Everything on file for one person (``application.nir_index``), as the rules engine reads
    it (4 indexed queries)."""
    return evidence_by_nir([nir_index]).get(nir_index, PersonEvidence())


def evidence_by_nir(nir_indexes: Iterable[str] | QuerySet[Any]) -> dict[str, PersonEvidence]:
    """The evidence of many people at once, by the blind index of their NIR, in 4 queries
    whatever their number.

    ``nir_indexes`` may be a queryset of them (``Application.objects.values("nir_index")``),
    which becomes a sub-query rather than a long list of parameters.
    """
    selection = nir_indexes if isinstance(nir_indexes, QuerySet) else list(nir_indexes)
    declarations: dict[str, list[Declaration]] = defaultdict(list)
    rights: dict[str, list[Rights]] = defaultdict(list)
    benefits: dict[str, list[Benefit]] = defaultdict(list)
    cancellations: dict[str, list[Cancellation]] = defaultdict(list)
    for nir, *values in (
        EmployerDeclaration.objects.filter(nir_index__in=selection)
        .order_by("nir_index", "start", "pk")
        .values_list(*DECLARATION_COLUMNS)
    ):
        declarations[nir].append(Declaration(*values))
    for nir, *values in (
        RightsRecord.objects.filter(nir_index__in=selection)
        .order_by("nir_index", "opened_on", "pk")
        .values_list(*RIGHTS_COLUMNS)
    ):
        rights[nir].append(Rights(*values))
    for nir, *values in (
        BenefitRecord.objects.filter(nir_index__in=selection)
        .order_by("nir_index", "start", "pk")
        .values_list(*BENEFIT_COLUMNS)
    ):
        benefits[nir].append(Benefit(*values))
    for nir, *values in (
        CancellationRecord.objects.filter(nir_index__in=selection)
        .order_by("nir_index", "date", "pk")
        .values_list(*CANCELLATION_COLUMNS)
    ):
        cancellations[nir].append(Cancellation(*values))
    people = set(declarations) | set(rights) | set(benefits) | set(cancellations)
    return {
        nir: PersonEvidence(
            declarations=tuple(declarations.get(nir, ())),
            rights=tuple(rights.get(nir, ())),
            benefits=tuple(benefits.get(nir, ())),
            cancellations=tuple(cancellations.get(nir, ())),
        )
        for nir in people
    }


# -- batches, for the staff's evidence pages and the API ---------------------------------------


def batches_for_staff(user: Any) -> QuerySet[EvidenceBatch]:
    """Every batch, newest first, for those who may see the evidence imports."""
    require(user, VIEW_BATCHES)
    return EvidenceBatch.objects.select_related("loaded_by").order_by("-loaded_at", "-pk")


def batch_for_staff(user: Any, batch_id: int) -> EvidenceBatch:
    return get_object_or_404(batches_for_staff(user), pk=batch_id)


def error_report_of(batch: EvidenceBatch) -> Path | None:
    """The batch's error report, if it has one, and only where import reports are written."""
    if not batch.error_report:
        return None
    path = Path(batch.error_report).resolve()
    reports = (Path(settings.EXPORTS_DIR) / "evidence").resolve()
    return path if path.parent == reports and path.is_file() else None


def batch_summary(batch: EvidenceBatch) -> dict[str, Any]:
    """What an import did, as JSON: the command's output, the import task's result."""
    period = [batch.period_start, batch.period_end]
    return {
        "batch": batch.pk,
        "kind": batch.kind,
        "status": batch.status,
        "read": batch.rows_read,
        "imported": batch.rows,
        "rejected": batch.rows_rejected,
        "duplicates": batch.rows_duplicate,
        "period": [day.isoformat() if day else None for day in period],
        "warnings": batch.warnings,
    }


def batch_by_id(batch_id: int) -> EvidenceBatch:
    return EvidenceBatch.objects.get(pk=batch_id)


def nir_indexes_in_batch(batch: EvidenceBatch) -> QuerySet[Any, Any]:
    """The people of the batch's records (blind indexes of their NIRs), as a sub-query."""
    return SPECS[batch.kind].model._default_manager.filter(batch=batch).values("nir_index")


# -- verifications of a fund's applications against the records -------------------------------
# Views reach these after ``funds.selectors.fund_for_staff`` has checked who may see the fund.

VERIFICATION_COUNTS = (
    "applications",
    "unreadable",
    "eligible",
    "mismatched",
    "changed",
    "outdated",
    "decided_changed",
)


def verification_runs_of(fund: Fund) -> QuerySet[VerificationRun]:
    """The fund's runs, newest first, with what started them."""
    return (
        VerificationRun.objects.filter(fund=fund)
        .select_related("evidence_batch", "requested_by")
        .order_by("-started_at", "-pk")
    )


def verification_run_of(fund: Fund, run_id: int) -> VerificationRun:
    """One of the fund's runs; 404 for another fund's."""
    return get_object_or_404(verification_runs_of(fund), pk=run_id)


def latest_verification(fund: Fund) -> VerificationRun | None:
    """The fund's latest finished run: the one whose results the applications show."""
    return verification_runs_of(fund).filter(status=VerificationRun.Status.DONE).first()


def verification_run_by_id(run_id: int) -> VerificationRun:
    return VerificationRun.objects.select_related("fund", "requested_by").get(pk=run_id)


def verified_fund_ids() -> QuerySet[VerificationRun, Any]:
    """The funds whose applications have been verified at least once, as a sub-query."""
    return VerificationRun.objects.values("fund_id").distinct().order_by()


def verification_of(application: Application) -> ApplicationVerification | None:
    """What the latest run found for the application, if it was verified (no query when the
    application was read with ``select_related("verification__run")``)."""
    try:
        return application.verification
    except ApplicationVerification.DoesNotExist:
        return None


def records_contradict() -> Q:
    """A filter of an application query: the latest verification found answers that the
    records contradict."""
    return Q(verification__has_mismatch=True)


def records_agree() -> Q:
    """A filter of an application query: verified, and the records contradict no answer."""
    return Q(verification__has_mismatch=False)


def outcome_changed() -> Q:
    """A filter of an application query: the latest verification changed the outcome."""
    return Q(verification__changed=True)


# What ``select_related`` follows from an application to what its latest verification found.
VERIFICATION = "verification"


def verified_outcomes(
    run: VerificationRun, *, statuses: Iterable[str]
) -> QuerySet[ApplicationVerification, tuple[int, bool, Decimal]]:
    """``(application id, eligible, amount)`` on the records, of the run's applications now in
    one of ``statuses`` (none once a later run has replaced the run's rows)."""
    return ApplicationVerification.objects.filter(
        run=run, application__status__in=list(statuses)
    ).values_list("application_id", "eligible", "amount")


def verification_summary(run: VerificationRun) -> dict[str, Any]:
    """What a run found, as JSON: the verification task's result."""
    return {
        "run": run.pk,
        "status": run.status,
        **{name: getattr(run, name) for name in VERIFICATION_COUNTS},
    }


def imported_batch_ids(kind: str) -> list[int]:
    """The batches of a kind whose records are stored (not rolled back, not failed)."""
    return list(
        EvidenceBatch.objects.filter(kind=kind, status=EvidenceBatch.Status.DONE).values_list(
            "pk", flat=True
        )
    )
