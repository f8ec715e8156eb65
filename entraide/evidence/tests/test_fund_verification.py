"""The batch verification of a fund agrees with the per-application path, counts what changed,
and is audited."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied
from entraide.demo.synthetic import make_siret
from entraide.evidence import columnar, fund_verification, partitions
from entraide.evidence.imports import import_evidence_file, rollback_batch
from entraide.evidence.models import ApplicationVerification, EvidenceBatch, VerificationRun
from entraide.evidence.selectors import person_evidence
from entraide.evidence.tests.factories import BenefitRecordFactory, EmployerDeclarationFactory
from entraide.evidence.verification import mismatched_aggregates
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.rules import selectors as rules_selectors
from entraide.rules.engine import evaluate, facts_from
from entraide.rules.services import applicant_record, evaluation_date
from entraide.rules.tests.factories import ApplicationEvaluationFactory, RuleSetVersionFactory

pytestmark = pytest.mark.django_db(transaction=True)

SUBMITTED = timezone.make_aware(dt.datetime(2020, 4, 20, 10, 0))


def run_verification(fund: Fund, actor: Any = None) -> VerificationRun:
    run = fund_verification.start_verification(actor=actor, fund=fund)
    return fund_verification.verify_fund(run=run)


def applicant(fund: Fund, rng: random.Random, **values: Any) -> Application:
    """An applicant with some contracts in and around the window, perhaps a benefit on the
    evaluation date, who declares a number of days near (or at) what the records show."""
    application = ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED, **values)
    for _ in range(rng.randrange(0, 5)):
        start = dt.date(2019, 8, 1) + dt.timedelta(days=rng.randrange(0, 240))
        EmployerDeclarationFactory.create(
            nir=application.nir,
            start=start,
            end=start + dt.timedelta(days=rng.randrange(0, 9)),
            contract_type=rng.choice(["CDDU", "CDD", "CDI"]),
        )
    if rng.random() < 0.2:
        BenefitRecordFactory.create(nir=application.nir, start=dt.date(2020, 3, 1), end=None)
    return application


def per_application(application: Application) -> tuple[bool, Decimal, list[str]]:
    """What the application's own path says: its evaluation on the records and its flags."""
    at = evaluation_date(application)
    version = rules_selectors.version_in_force(application.fund, at)
    assert version is not None
    document = rules_selectors.document_of(version)
    facts = facts_from(document, applicant_record(application))
    evaluation = evaluate(
        document, facts=facts, evidence=person_evidence(application.nir_index), at=at
    )
    flags = mismatched_aggregates(document, application.declared, evaluation.values)
    return evaluation.eligible, evaluation.amount, flags


def test_the_batch_agrees_with_each_application_s_own_evaluation_and_flags() -> None:
    rng = random.Random(6)
    fund = FundFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=fund)
    applications = []
    for number in range(24):
        declared: dict[str, Any] = {"annual_resources": str(10_000 + 1_000 * number)}
        if number % 3:  # some answer the question, some leave it
            declared["days"] = rng.choice([0, 3, 12, 14, 30])
        applications.append(applicant(fund, rng, declared=declared))

    run = run_verification(fund)

    assert run.status == VerificationRun.Status.DONE
    assert run.applications == 24
    assert run.unreadable == 0
    stored = {v.application_id: v for v in ApplicationVerification.objects.all()}
    for application in applications:
        eligible, amount, flags = per_application(application)
        verification = stored[application.pk]
        assert (verification.eligible, verification.amount) == (eligible, amount)
        assert verification.mismatched == flags
        assert verification.has_mismatch == bool(flags)
        assert verification.evaluated_on == dt.date(2020, 4, 20)
    assert run.eligible == sum(1 for v in stored.values() if v.eligible)
    assert run.mismatched == sum(1 for v in stored.values() if v.has_mismatch)
    assert 0 < run.eligible < 24
    assert 0 < run.mismatched < 24


def test_new_records_change_outcomes_and_the_run_counts_them() -> None:
    fund = FundFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=fund)
    pending = ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED, declared={"days": 15})
    decided = ApplicationFactory.create(
        fund=fund, submitted_at=SUBMITTED, status=Application.Status.APPROVED
    )
    untouched = ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED)
    # evaluated before any record arrived: not eligible
    for application in (pending, decided, untouched):
        ApplicationEvaluationFactory.create(application=application, eligible=False, amount=0)

    first = run_verification(fund)
    assert (first.applications, first.eligible, first.changed, first.outdated) == (3, 0, 0, 0)
    assert first.mismatched == 1  # declared 15 days, the records show none

    for application in (pending, decided):
        EmployerDeclarationFactory.create(
            nir=application.nir, start=dt.date(2019, 10, 1), end=dt.date(2019, 10, 20)
        )
    second = run_verification(fund)

    assert (second.eligible, second.changed, second.decided_changed) == (2, 2, 1)
    assert second.outdated == 1  # the pending one: its evaluation no longer matches
    assert second.mismatched == 1  # 20 days on record, 15 declared
    assert ApplicationVerification.objects.get(application=pending).changed
    assert not ApplicationVerification.objects.get(application=untouched).changed
    assert ApplicationVerification.objects.count() == 3  # the latest run's rows only

    third = run_verification(fund)
    assert third.changed == 0
    event = AuditEvent.objects.filter(action="evidence.fund_verified").last()
    assert event is not None
    assert event.changes["changed"] == 0


def test_applications_the_rules_cannot_read_are_counted_not_verified() -> None:
    fund = FundFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=fund)  # in force from 2020-01-01
    ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED)
    before_the_rules = timezone.make_aware(dt.datetime(2019, 12, 1, 12, 0))
    ApplicationFactory.create(fund=fund, submitted_at=before_the_rules)
    ApplicationFactory.create(
        fund=fund, submitted_at=SUBMITTED, declared={"annual_resources": "lots"}
    )

    run = run_verification(fund)

    assert (run.applications, run.unreadable) == (1, 2)


def test_rules_that_read_the_evaluation_date_are_run_per_day() -> None:
    fund = FundFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=fund)  # benefits_now: at the evaluation date
    early = ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED)
    late = ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED + dt.timedelta(days=30))
    for application in (early, late):
        EmployerDeclarationFactory.create(
            nir=application.nir, start=dt.date(2019, 10, 1), end=dt.date(2019, 10, 20)
        )
        # paid until the day after the first one applied
        BenefitRecordFactory.create(
            nir=application.nir, start=dt.date(2020, 3, 1), end=dt.date(2020, 4, 21)
        )

    run_verification(fund)

    assert not ApplicationVerification.objects.get(application=early).eligible
    assert ApplicationVerification.objects.get(application=late).eligible


def test_only_the_fund_s_managers_start_a_verification() -> None:
    fund = FundFactory.create()
    reviewer = FundRoleFactory.create(fund=fund, role=FundRole.Role.REVIEWER).user
    with pytest.raises(PermissionDenied):
        fund_verification.start_verification(actor=reviewer, fund=fund)
    admin = FundRoleFactory.create(fund=fund, role=FundRole.Role.OPERATOR_ADMIN).user
    run = fund_verification.start_verification(actor=admin, fund=fund)
    assert run.requested_by == admin


def test_imported_records_are_read_from_their_columnar_copy_and_agree(tmp_path) -> None:
    fund = FundFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=fund)
    imported = ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED, declared={"days": 20})
    loaded = ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED, declared={"days": 3})
    siret = make_siret(random.Random(3))
    rows = [
        f"{imported.nir},{siret},59.11A,2642,CDDU,2019-10-{day:02d},2019-10-{day:02d},8,,100"
        for day in range(1, 21)
    ]
    path = tmp_path / "declarations.csv"
    path.write_text("\n".join([imports_header(), *rows]) + "\n", encoding="utf-8")
    batch = import_evidence_file(actor=None, kind="declarations", path=path)
    EmployerDeclarationFactory.create(nir=loaded.nir, start=dt.date(2019, 11, 4))
    copy = columnar.path_of("declarations", batch.pk)
    assert copy.is_file() == partitions.partitioned()  # PostgreSQL imports keep a copy
    if copy.is_file():  # which holds the blind index of the NIR, never the NIR
        table = pq.read_table(copy)
        assert "nir" not in table.column_names
        assert set(table.column("nir_index").to_pylist()) == {imported.nir_index}

    run_verification(fund)

    for application in (imported, loaded):
        verification = ApplicationVerification.objects.get(application=application)
        assert (verification.eligible, verification.amount, verification.mismatched) == (
            per_application(application)
        )
    assert ApplicationVerification.objects.get(application=imported).eligible

    rollback_batch(actor=None, batch=batch)
    assert not copy.exists()
    run_verification(fund)
    assert not ApplicationVerification.objects.get(application=imported).eligible


def test_a_columnar_copy_with_nirs_in_clear_is_removed_and_the_database_read(
    tmp_path, settings
) -> None:
    settings.EVIDENCE_COLUMNS_DIR = tmp_path / "columns"
    fund = FundFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=fund)
    application = ApplicationFactory.create(
        fund=fund, submitted_at=SUBMITTED, declared={"days": 20}
    )
    record = EmployerDeclarationFactory.create(
        nir=application.nir, start=dt.date(2019, 10, 1), end=dt.date(2019, 10, 20)
    )
    batch = record.batch
    batch.status = EvidenceBatch.Status.DONE
    batch.save()
    # a copy written before NIRs were indexed: the same batch, NIRs in clear, no records
    legacy = columnar.path_of("declarations", batch.pk)
    legacy.parent.mkdir(parents=True)
    pq.write_table(pa.table({"nir": [application.nir], "siret": [record.siret]}), legacy)

    assert columnar.available("declarations", [batch.pk]) == {}
    assert not legacy.exists()
    run_verification(fund)
    verification = ApplicationVerification.objects.get(application=application)
    assert (verification.eligible, verification.amount, verification.mismatched) == (
        per_application(application)
    )
    assert verification.eligible  # the records were read from the database


def imports_header() -> str:
    return "nir,siret,naf,idcc,contract_type,start,end,hours,cachets,gross_pay"
