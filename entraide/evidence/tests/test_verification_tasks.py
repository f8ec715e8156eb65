"""Verifying a fund in the background: on request, after an import or a rollback, and the
follow-up that evaluates again the pending applications the records no longer bear out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied
from entraide.core.progress import progress_of
from entraide.evidence import imports, services, tasks
from entraide.evidence.models import EvidenceBatch, VerificationRun
from entraide.evidence.tests.factories import (
    EmployerDeclarationFactory,
    EvidenceBatchFactory,
    VerificationRunFactory,
)
from entraide.evidence.tests.test_imports import HEADER, declaration
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.rules.models import ApplicationEvaluation
from entraide.rules.tests.factories import ApplicationEvaluationFactory, RuleSetVersionFactory

pytestmark = pytest.mark.django_db(transaction=True)

SUBMITTED = timezone.make_aware(dt.datetime(2020, 4, 20, 10, 0))


def fund_with_rules() -> Fund:
    fund = FundFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=fund)
    return fund


def evaluated_not_eligible(fund: Fund, **values: object) -> Application:
    """An application evaluated before any record of its applicant arrived."""
    application = ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED, **values)
    ApplicationEvaluationFactory.create(application=application, eligible=False, amount=0)
    return application


def twenty_days_of_work(application: Application, batch: EvidenceBatch | None = None) -> None:
    """Enough contracts for the test rules to find the applicant eligible."""
    EmployerDeclarationFactory.create(
        nir=application.nir,
        start=dt.date(2019, 10, 1),
        end=dt.date(2019, 10, 20),
        **({"batch": batch} if batch is not None else {}),
    )


def evaluations_of(application: Application) -> list[tuple[bool, bool]]:
    return list(
        ApplicationEvaluation.objects.filter(application=application)
        .order_by("pk")
        .values_list("eligible", "is_current")
    )


def declarations_file(tmp_path: Path, *nirs: str) -> Path:
    path = tmp_path / "declarations.csv"
    lines = [HEADER, *(declaration(nir=nir) for nir in nirs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- on request ---------------------------------------------------------------------------------


def test_a_requested_verification_runs_as_a_task_showing_its_progress_and_counts() -> None:
    fund = fund_with_rules()
    admin = FundRoleFactory.create(fund=fund, role=FundRole.Role.OPERATOR_ADMIN).user
    for _ in range(3):
        twenty_days_of_work(ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED))
    ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED)

    run = services.request_verification(actor=admin, fund=fund)

    assert run.status == VerificationRun.Status.DONE
    assert (run.applications, run.eligible, run.requested_by) == (4, 3, admin)
    assert run.task_id
    progress = progress_of(run.task_id)
    assert progress is not None
    assert (progress.done, progress.total) == (4, 4)
    requested = AuditEvent.objects.get(action="evidence.verification_requested")
    assert (requested.actor_id, requested.object_id, requested.fund_id) == (
        admin.pk,
        str(run.pk),
        fund.pk,
    )


def test_a_reviewer_cannot_request_a_verification() -> None:
    fund = fund_with_rules()
    reviewer = FundRoleFactory.create(fund=fund, role=FundRole.Role.REVIEWER).user

    with pytest.raises(PermissionDenied):
        services.request_verification(actor=reviewer, fund=fund)

    assert not VerificationRun.objects.exists()


def test_a_run_already_over_is_not_verified_again() -> None:
    fund = fund_with_rules()
    run = VerificationRunFactory.create(fund=fund, applications=7)
    ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED)

    result = tasks.verify_fund_applications.enqueue(run.pk)

    assert result.return_value is not None
    assert result.return_value["applications"] == 7
    run.refresh_from_db()
    assert run.applications == 7


# -- the follow-up ------------------------------------------------------------------------------


def test_the_follow_up_evaluates_again_only_the_pending_applications_the_records_contradict(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fund = fund_with_rules()
    admin = FundRoleFactory.create(fund=fund, role=FundRole.Role.OPERATOR_ADMIN).user
    outdated = evaluated_not_eligible(fund, status=Application.Status.UNDER_REVIEW)
    decided = evaluated_not_eligible(fund, status=Application.Status.REJECTED)
    unchanged = evaluated_not_eligible(fund)
    never_evaluated = ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED)
    twenty_days_of_work(outdated)
    twenty_days_of_work(decided)

    run = services.request_verification(actor=admin, fund=fund)

    # the pending ones whose evaluation the records contradict, or that have none
    assert run.outdated == 2
    assert evaluations_of(outdated) == [(False, False), (True, True)]
    assert [eligible for eligible, _ in evaluations_of(never_evaluated)] == [False]
    # a decided application keeps the evaluation it was decided on
    assert evaluations_of(decided) == [(False, True)]
    assert "not evaluated again" not in caplog.text  # not even tried
    assert evaluations_of(unchanged) == [(False, True)]
    assert run.decided_changed == 1


def test_the_follow_up_finds_nothing_more_to_do_the_second_time() -> None:
    fund = fund_with_rules()
    outdated = evaluated_not_eligible(fund)
    twenty_days_of_work(outdated)
    run = tasks.fund_verification.start_verification(actor=None, fund=fund)
    tasks.verify_fund_applications.enqueue(run.pk)  # and its follow-up

    again = tasks.update_outdated_evaluations.enqueue(run.pk)

    assert again.return_value == {"run": run.pk, "outdated": 0, "evaluated": 0}
    assert len(evaluations_of(outdated)) == 2


# -- after new evidence -------------------------------------------------------------------------


def test_an_import_verifies_exactly_the_funds_whose_applicants_are_in_the_batch() -> None:
    batch = EvidenceBatchFactory.create()
    concerned, also_concerned, elsewhere = (fund_with_rules() for _ in range(3))
    for fund in (concerned, concerned, also_concerned):
        twenty_days_of_work(ApplicationFactory.create(fund=fund, submitted_at=SUBMITTED), batch)
    # in another batch of the same kind
    twenty_days_of_work(ApplicationFactory.create(fund=elsewhere, submitted_at=SUBMITTED))

    result = tasks.verify_after_evidence_change.enqueue(batch.pk, "imported")

    runs = VerificationRun.objects.filter(pk__in=result.return_value)
    assert sorted(run.fund_id for run in runs) == [concerned.pk, also_concerned.pk]
    assert {(run.evidence_batch_id, run.requested_by_id, run.status) for run in runs} == {
        (batch.pk, None, VerificationRun.Status.DONE)
    }
    assert all(run.task_id for run in runs)
    assert not VerificationRun.objects.filter(fund=elsewhere).exists()


def test_importing_a_file_verifies_the_funds_of_the_people_in_it(tmp_path: Path) -> None:
    fund = fund_with_rules()
    applicant = evaluated_not_eligible(fund)
    fund_with_rules()  # nobody in the file applied to it

    batch = imports.import_evidence_file(
        actor=None,
        kind="declarations",
        path=declarations_file(tmp_path, applicant.nir),
        source="Audiens",
    )

    (run,) = VerificationRun.objects.all()
    assert (run.fund_id, run.evidence_batch_id, run.status) == (
        fund.pk,
        batch.pk,
        VerificationRun.Status.DONE,
    )
    assert run.applications == 1


def test_a_rollback_verifies_again_the_funds_verified_before(tmp_path: Path) -> None:
    verified = fund_with_rules()
    ApplicationFactory.create(fund=verified, submitted_at=SUBMITTED)
    earlier = VerificationRunFactory.create(fund=verified)
    never_verified = fund_with_rules()
    ApplicationFactory.create(fund=never_verified, submitted_at=SUBMITTED)
    batch = imports.import_evidence_file(
        actor=None,
        kind="declarations",
        path=declarations_file(tmp_path, ApplicationFactory.build().nir),  # nobody who applied
        source="Audiens",
    )
    assert batch.rows == 1
    assert VerificationRun.objects.get() == earlier

    imports.rollback_batch(actor=None, batch=batch)

    run = VerificationRun.objects.exclude(pk=earlier.pk).get()
    assert (run.fund_id, run.evidence_batch_id, run.status) == (
        verified.pk,
        batch.pk,
        VerificationRun.Status.DONE,
    )
