from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from django.db.models import F
from schwifty import IBAN
from stdnum.fr import nir as stdnum_nir
from stdnum.fr import siret as stdnum_siret

from entraide.accounts.mfa import totp_secret
from entraide.accounts.selectors import user_by_email
from entraide.applications.identity import (
    IDENTIFIERS,
    check_birth_date_matches,
    identifier_of_value,
)
from entraide.applications.models import Application
from entraide.audit.models import AuditEvent
from entraide.audit.verify import verify_chain
from entraide.crew.models import CrewReliefSettings, Payout, ReliefRun, RosterImport
from entraide.demo.seed import (
    APPROVER,
    CREW_CAP,
    CREW_FUND_SLUG,
    CREW_RELIEF_SHARE,
    DEMO_FUND_SLUG,
    STAFF,
    UK_FUND_SLUG,
    seed_demo,
)
from entraide.demo.synthetic import make_people, make_siret, make_uk_people
from entraide.evidence.models import BenefitRecord, CancellationRecord, EmployerDeclaration
from entraide.funds import ledger
from entraide.funds.models import Fund, FundRole
from entraide.integrity.models import Link, LinkageRun
from entraide.payments.models import BankDetailsChange, Payment, PaymentBatch, PaymentSettings
from entraide.payments.reconciliation import reconcile
from entraide.programmes.models import Allocation, ProgrammeRole
from entraide.reporting.public_statistics import is_published
from entraide.reporting.statistics import programme_statistics
from entraide.review.models import Decision, Flag
from entraide.rules.models import ApplicationEvaluation, RuleSetVersion

Status = Payout.Status


def test_synthetic_identities_are_valid_and_consistent() -> None:
    for person in make_people(50, seed=11):
        assert stdnum_nir.is_valid(person.nir)
        check_birth_date_matches(person.nir, person.birth_date)
    rng = random.Random(5)
    assert all(stdnum_siret.is_valid(make_siret(rng)) for _ in range(200))
    uk = make_uk_people(200, seed=11)
    assert all(IDENTIFIERS["gb-nino"].validate(person.nir) == person.nir for person in uk)
    assert len({person.nir for person in uk}) == 200
    assert all(IBAN(person.iban).country_code == "GB" for person in uk)


@pytest.mark.django_db
def test_seeding_builds_the_demo_fund_once(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        first = seed_demo(applicants=12, decided=4, uk_applicants=6)
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
    assert set(Decision.objects.filter(fund=fund).values_list("rule_version", flat=True)) == {
        version.pk
    }
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
    # The programme: each fund's budget allocated in dollars, what the crew relief fund does
    # not have kept for crew relief, the donor's login.
    allocations = {a.fund_id: a for a in Allocation.objects.filter(programme=fund.programme)}
    for each in Fund.objects.filter(programme=fund.programme):
        assert allocations[each.pk].converted_amount == each.budget
        assert allocations[each.pk].converted_currency == each.currency
    crew_fund = Fund.objects.get(slug=CREW_FUND_SLUG)
    assert allocations[None].amount + allocations[crew_fund.pk].amount == CREW_RELIEF_SHARE
    assert ProgrammeRole.objects.get(role="donor").user.email == "donor@demo.entraide.invalid"
    assert is_published(fund)
    assert verify_chain().ok
    # Whoever approves or pays has the demo's authenticator app; the auditor needs none.
    enrolled = {email for email, _role in first.logins if totp_secret(user_by_email(email))}
    assert enrolled == {email for email, _, _, role in STAFF if role != FundRole.Role.AUDITOR}

    events = AuditEvent.objects.count()
    applications = Application.objects.count()
    again = seed_demo(applicants=12, decided=4, uk_applicants=6)
    assert not again.created
    assert (AuditEvent.objects.count(), Application.objects.count()) == (events, applications)


@pytest.mark.django_db
def test_the_demo_pays_crews_once_after_a_second_person_approves(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        seed_demo(applicants=0, decided=0, uk_applicants=0)
    fund = Fund.objects.get(slug=CREW_FUND_SLUG)
    programme = fund.programme
    assert (fund.kind, fund.currency) == (Fund.Kind.CREW_RELIEF, "EUR")
    assert PaymentSettings.objects.filter(fund=fund).exists()
    settings = CrewReliefSettings.objects.get(programme=programme)
    assert (settings.weeks, settings.cap, settings.several_productions) == (2, CREW_CAP, False)
    # 61 lines: one refused for its IBAN.
    (roster,) = RosterImport.objects.filter(programme=programme)
    assert (roster.rows, roster.accepted) == (61, 60)
    assert [problem["code"] for problem in roster.problems] == ["invalid_iban"]

    # The first two productions' run: proposed by the operator, approved by the approver (a
    # manager of the programme), each payout granted from the crew relief fund.
    granted, waiting = ReliefRun.objects.filter(programme=programme).order_by("proposed_at")
    assert granted.status == ReliefRun.Status.APPROVED
    assert granted.awarded_at is not None
    assert granted.decided_by is not None
    assert granted.decided_by.email == APPROVER
    assert granted.decided_by != granted.proposed_by
    assert ProgrammeRole.objects.filter(
        programme=programme, user=granted.decided_by, role=ProgrammeRole.Role.MANAGER
    ).exists()
    awarded = Payout.objects.filter(run=granted)
    assert set(awarded.values_list("status", flat=True)) == {Status.AWARDED}
    assert awarded.count() == 45  # 26 + 20 lines, less the one refused
    assert Application.objects.filter(fund=fund, status=Application.Status.APPROVED).count() == 45
    assert ledger.totals(fund).committed == sum(p.amount for p in awarded)
    # Two weeks of a director of photography's pay are above the cap: the cap is paid.
    assert awarded.filter(amount__lt=F("computed")).exists()

    # The last production's run waits for its second person; the person already paid on the
    # first production is left out of it.
    assert waiting.status == ReliefRun.Status.PROPOSED
    assert waiting.decided_by is None
    assert Payout.objects.filter(run=waiting, status=Status.PROPOSED).count() == 14
    (twice,) = Payout.objects.filter(run=waiting, status=Status.EXCLUDED)
    assert twice.reason == Payout.Reason.ALREADY_PAID
    (paid,) = Payout.objects.filter(
        crew_member__person_key=twice.crew_member.person_key, status__in=Payout.LIVE
    )
    assert (paid.run, paid.status) == (granted, Status.AWARDED)
    assert paid.production != twice.production
    assert verify_chain().ok


@pytest.mark.django_db
def test_the_demo_has_a_uk_partner_fund_in_pounds(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        seed_demo(applicants=12, decided=4, uk_applicants=20)
    fund = Fund.objects.get(slug=UK_FUND_SLUG)
    assert (fund.kind, fund.currency) == (Fund.Kind.APPLICATIONS, "GBP")
    version = RuleSetVersion.objects.get(rule_set__fund=fund)
    assert version.status == "published"
    applications = Application.objects.filter(fund=fund)
    assert applications.count() == 20
    assert {identifier_of_value(nir).id for nir in applications.values_list("nir", flat=True)} == {
        "gb-nino"
    }
    assert set(applications.values_list("country", flat=True)) == {"GB"}
    evaluations = ApplicationEvaluation.objects.filter(application__fund=fund, is_current=True)
    assert 0 < evaluations.filter(eligible=True).count() < 20
    decisions = Counter(Decision.objects.filter(fund=fund).values_list("outcome", flat=True))
    assert decisions["approved"] > decisions["rejected"] > 0
    assert ledger.totals(fund).committed > 0

    # The programme's dashboard: two partner funds in two currencies, and its crew relief.
    figures = programme_statistics(fund.programme)
    assert sorted((row.key, row.currency) for row in figures.by_fund.rows) == [
        (DEMO_FUND_SLUG, "EUR"),
        (UK_FUND_SLUG, "GBP"),
    ]
    assert None not in figures.by_fund.values("committed_converted")
    assert figures.crew_relief is not None
    assert [row.key for row in figures.crew_relief.rows] == [CREW_FUND_SLUG]


@pytest.mark.django_db
def test_the_demo_applicants_are_a_mix_of_eligible_and_not(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        seed_demo(applicants=60, decided=8, uk_applicants=0)

    evaluations = ApplicationEvaluation.objects.filter(
        application__fund__slug=DEMO_FUND_SLUG, is_current=True
    )
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
    rejected = Decision.objects.filter(fund__slug=DEMO_FUND_SLUG, outcome="rejected")
    assert rejected.exists()
    assert not ApplicationEvaluation.objects.filter(
        application__decision__in=rejected, eligible=True
    ).exists()
