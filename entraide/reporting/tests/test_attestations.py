"""Issuing attestations, their codes and their verification (no PDF rendered here)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import override_settings

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied
from entraide.funds import ledger
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.reporting import attestations
from entraide.reporting.attestations import NoAttestation, Verdict
from entraide.reporting.models import Attestation
from entraide.reporting.tests.helpers import approved, award_of, member_of, paid, returned

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


@pytest.fixture
def fund() -> Fund:
    fund: Fund = FundFactory(budget=Decimal("100000.00"), name="Fonds Solidarité Plateaux")
    return fund


def issue(application: Application, language: str = "fr") -> Attestation:
    return attestations.issue_attestation(
        actor=application.applicant, application=application, language=language
    )


def test_the_code_is_80_bits_of_crockford_base32_grouped_by_four(fund: Fund) -> None:
    attestation = issue(approved(fund))

    assert CODE.match(attestation.code)
    assert attestation.code == attestations.code_for(
        attestation.application, attestations.facts_of(attestation.application)
    )


def test_the_same_facts_give_the_same_attestation_in_either_language(fund: Fund) -> None:
    application = approved(fund)

    first = issue(application, "fr")
    again = issue(application, "en")

    assert again.pk == first.pk
    assert again.code == first.code
    issued = AuditEvent.objects.filter(action="attestation.issued")
    assert issued.count() == 1
    assert issued.get().changes["code"] == first.code


def test_the_code_depends_on_the_server_key_so_it_cannot_be_forged(fund: Fund) -> None:
    application = approved(fund)
    facts = attestations.facts_of(application)
    assert facts is not None

    with override_settings(SECRET_KEY="another-key-entirely"):
        other = attestations.code_for(application, facts)

    assert other != attestations.code_for(application, facts)


def test_the_code_changes_with_the_amount_the_status_and_the_payment_day(fund: Fund) -> None:
    application = approved(fund)
    facts = attestations.facts_of(application)
    assert facts is not None
    code = attestations.code_for(application, facts)

    variants = [
        attestations.Facts(**{**facts.__dict__, "amount": Decimal("1500.01")}),
        attestations.Facts(**{**facts.__dict__, "currency": "GBP"}),
        attestations.Facts(**{**facts.__dict__, "status": "paid"}),
        attestations.Facts(**{**facts.__dict__, "status": "paid", "paid_on": dt.date(2031, 5, 2)}),
    ]

    codes = {attestations.code_for(application, variant) for variant in variants}
    assert code not in codes
    assert len(codes) == len(variants)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("7k3m-9q2f-x4tb-h8wd", "7K3M-9Q2F-X4TB-H8WD"),
        (" 7K3M 9Q2F X4TB H8WD ", "7K3M-9Q2F-X4TB-H8WD"),
        ("7K3M9Q2FX4TBH8WD", "7K3M-9Q2F-X4TB-H8WD"),
        ("OOOO-IIII-LLLL-oooo", "0000-1111-1111-0000"),
    ],
)
def test_a_code_is_read_as_crockford_reads_it(typed: str, stored: str) -> None:
    assert attestations.normalised_code(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["", "7K3M-9Q2F-X4TB", "7K3M-9Q2F-X4TB-H8WDX", "7K3M-9Q2F-X4TB-H8WU", "é" * 16, "7" * 65],
)
def test_what_cannot_be_a_code_is_none(typed: str) -> None:
    assert attestations.normalised_code(typed) is None


def test_the_facts_are_the_awards_with_the_decision_day_on_the_funds_clock(fund: Fund) -> None:
    application = approved(fund)

    attestation = issue(application)

    award = award_of(application)
    assert (attestation.award, attestation.amount, attestation.currency) == (
        award,
        Decimal("1500.00"),
        "EUR",
    )
    assert attestation.status == Attestation.Stage.APPROVED
    assert attestation.decided_on == fund.local_today(award.reserved_at)
    assert attestation.paid_on is None


def test_a_paid_grant_gets_its_own_code_with_the_day_its_transfer_was_sent(fund: Fund) -> None:
    application = approved(fund)
    approval = issue(application)
    sent_at = dt.datetime(2031, 5, 2, 22, 30, tzinfo=dt.UTC)  # 3 May in Paris

    paid(application, sent_at=sent_at)
    payment = issue(application)

    assert payment.code != approval.code
    assert (payment.status, payment.paid_on) == (Attestation.Stage.PAID, dt.date(2031, 5, 3))
    assert attestations.verify(payment.code).verdict == Verdict.VALID
    assert attestations.verify(approval.code).verdict == Verdict.SUPERSEDED


def test_a_transfer_returned_makes_the_approval_valid_again_and_paid_again_a_new_code(
    fund: Fund,
) -> None:
    application = approved(fund)
    approval = issue(application)
    first_payment = paid(application, sent_at=dt.datetime(2031, 5, 2, 10, tzinfo=dt.UTC))
    first_paid = issue(application)

    returned(first_payment)

    assert issue(application).pk == approval.pk
    assert attestations.verify(approval.code).verdict == Verdict.VALID
    assert attestations.verify(first_paid.code).verdict == Verdict.SUPERSEDED

    paid(application, sent_at=dt.datetime(2031, 6, 9, 10, tzinfo=dt.UTC))
    second_paid = issue(application)

    assert second_paid.code not in (approval.code, first_paid.code)
    assert second_paid.paid_on == dt.date(2031, 6, 9)


def test_a_released_grant_leaves_its_attestations_no_longer_valid(fund: Fund) -> None:
    application = approved(fund)
    attestation = issue(application)

    ledger.release_award(actor=None, award=award_of(application), note="cancelled")

    assert attestations.verify(attestation.code).verdict == Verdict.WITHDRAWN
    with pytest.raises(NoAttestation):
        issue(application)


@pytest.mark.parametrize(
    "status",
    [
        Application.Status.RECEIVED,
        Application.Status.UNDER_REVIEW,
        Application.Status.REJECTED,
        Application.Status.WAITLISTED,
    ],
)
def test_no_attestation_without_an_approved_grant(fund: Fund, status: str) -> None:
    application = ApplicationFactory(fund=fund, status=status)
    if status == Application.Status.WAITLISTED:
        ledger.place_award(
            actor=member_of(fund, FundRole.Role.APPROVER),
            fund=fund,
            application=application,
            amount=Decimal("500.00"),
            wait=True,
        )

    with pytest.raises(NoAttestation):
        issue(application)

    assert not attestations.has_attestation(application)
    assert not Attestation.objects.exists()


def test_only_the_applicant_is_issued_their_attestation_in_the_portal(fund: Fund) -> None:
    application = approved(fund)
    someone_else = ApplicationFactory(fund=fund).applicant

    with pytest.raises(PermissionDenied):
        attestations.issue_attestation(actor=someone_else, application=application, language="fr")


def test_staff_downloads_need_to_read_applications_and_are_audited_each_time(fund: Fund) -> None:
    application = approved(fund)
    finance = member_of(fund, FundRole.Role.FINANCE)
    other_fund_reviewer = member_of(FundFactory(), FundRole.Role.REVIEWER)

    for language in ("fr", "en"):
        attestations.issue_attestation(
            actor=finance, application=application, language=language, for_staff=True
        )
    with pytest.raises(PermissionDenied):
        attestations.issue_attestation(
            actor=other_fund_reviewer, application=application, language="fr", for_staff=True
        )

    downloads = AuditEvent.objects.filter(action="attestation.downloaded").order_by("sequence")
    assert [event.changes["language"] for event in downloads] == ["fr", "en"]
    assert {event.actor_id for event in downloads} == {finance.pk}
    assert AuditEvent.objects.filter(action="attestation.issued", actor=finance).count() == 1


def test_unknown_and_malformed_codes_get_the_same_answer(fund: Fund) -> None:
    issue(approved(fund))

    for typed in ("0000-0000-0000-0000", "not a code", "", "7K3M"):
        verification = attestations.verify(typed)
        assert verification == attestations.Verification(Verdict.UNKNOWN)


def test_a_code_typed_loosely_still_verifies(fund: Fund) -> None:
    attestation = issue(approved(fund))

    verification = attestations.verify(attestation.code.lower().replace("-", " "))

    assert verification.verdict == Verdict.VALID
    assert verification.attestation == attestation
    assert verification.issued_on == fund.local_today(attestation.issued_at)
