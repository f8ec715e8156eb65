from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from stdnum.fr import nir as stdnum_nir
from stdnum.fr import siret as stdnum_siret

from entraide.applications.identity import check_birth_date_matches
from entraide.applications.models import Application
from entraide.audit.verify import verify_chain
from entraide.demo.seed import DEMO_FUND_SLUG, seed_demo
from entraide.demo.synthetic import make_people, make_siret
from entraide.evidence.models import BenefitRecord, CancellationRecord, EmployerDeclaration
from entraide.funds.models import Fund, FundRole
from entraide.integrity.models import Link, LinkageRun
from entraide.payments.models import BankDetailsChange, Payment, PaymentBatch
from entraide.payments.reconciliation import reconcile
from entraide.programmes.models import Allocation, ProgrammeRole
from entraide.review.models import Decision, Flag
from entraide.rules.models import ApplicationEvaluation, RuleSetVersion


def test_synthetic_identities_are_valid_and_consistent() -> None:
    for person in make_people(50, seed=11):
        assert stdnum_nir.is_valid(person.nir)
        check_birth_date_matches(person.nir, person.birth_date)
    rng = random.Random(5)
    assert all(stdnum_siret.is_valid(make_siret(rng)) for _ in range(200))


@pytest.mark.django_db
def test_seeding_builds_the_demo_fund_once(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        first = seed_demo(applicants=12, decided=4)
    fund = Fund.objects.get(slug=DEMO_FUND_SLUG)
    assert first.created
    assert set(FundRole.objects.filter(fund=fund).values_list("role", flat=True)) == set(
        FundRole.Role.values
    )
    # The 12 applicants, and 3 look-alikes for the integrity checks.
    assert Application.objects.filter(fund=fund).count() == 15
    assert Decision.objects.filter(fund=fund).count() == 4
    assert EmployerDeclaration.objects.exists()
    assert BenefitRecord.objects.exists()
    assert CancellationRecord.objects.exists()
    version = RuleSetVersion.objects.get(rule_set__fund=fund)
    assert (version.status, version.number) == ("published", 1)
    assert ApplicationEvaluation.objects.filter(version=version, is_current=True).count() == 15
    assert set(Decision.objects.values_list("rule_version", flat=True)) == {version.pk}
    # Half the approved awards paid; the bank returned one transfer (AC04): its applicant is
    # asked for new bank details, and the payments still add up with the ledger.
    (batch,) = PaymentBatch.objects.filter(fund=fund)
    assert batch.status == PaymentBatch.Status.SENT
    assert Payment.objects.filter(fund=fund, status=Payment.Status.FAILED).count() == 1
    assert BankDetailsChange.objects.filter(fund=fund).count() == 1
    assert reconcile(fund).balanced
    # Two second applications (a typo, swapped names) and a partner on a joint account.
    codes = Counter(Flag.objects.filter(fund=fund, raised_by=None).values_list("code", flat=True))
    assert codes == {"possible_duplicate": 4, "shared_account": 2}
    assert Link.objects.filter(left_fund=fund).count() == 3
    assert LinkageRun.objects.get(fund=fund).status == LinkageRun.Status.QUEUED
    # The programme: the fund's budget allocated in dollars, crew relief, the donor's login.
    allocations = {a.fund_id: a for a in Allocation.objects.filter(programme=fund.programme)}
    assert allocations[fund.pk].converted_amount == fund.budget
    assert allocations[None].amount == Decimal("85000000.00")
    assert ProgrammeRole.objects.get(role="donor").user.email == "donor@demo.entraide.invalid"
    assert verify_chain().ok

    again = seed_demo(applicants=12, decided=4)
    assert not again.created
    assert Application.objects.count() == 15


@pytest.mark.django_db
def test_the_demo_applicants_are_a_mix_of_eligible_and_not(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        seed_demo(applicants=60, decided=8)

    evaluations = ApplicationEvaluation.objects.filter(is_current=True)
    amounts = {str(amount) for amount in evaluations.values_list("amount", flat=True)}
    failed = {
        criterion["id"]
        for result in evaluations.values_list("result", flat=True)
        for criterion in result["criteria"]
        if not criterion["passed"]
    }
    passed_exclusion = [
        result
        for result in evaluations.values_list("result", flat=True)
        if any(c["id"] == "receives_benefits" and c["passed"] for c in result["criteria"])
    ]
    assert 0.4 < evaluations.filter(eligible=True).count() / 60 < 0.9
    assert amounts == {"0.00", "500.00", "900.00"}
    assert {"sector_worker", "worked_12_days", "no_opening_2019"} <= failed
    assert passed_exclusion  # some receive benefits and are excluded
    rejected = Decision.objects.filter(outcome="rejected")
    assert rejected.exists()
    assert not ApplicationEvaluation.objects.filter(
        application__decision__in=rejected, eligible=True
    ).exists()
