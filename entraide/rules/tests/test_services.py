"""Drafting, publishing, evaluating and re-evaluating: the rules' services in the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.crypto import blind_index
from entraide.core.errors import InvalidTransition, PermissionDenied
from entraide.evidence.selectors import evidence_by_nir, person_evidence
from entraide.evidence.tests.factories import (
    BenefitRecordFactory,
    CancellationRecordFactory,
    EmployerDeclarationFactory,
    RightsRecordFactory,
)
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review import services as review_services
from entraide.review.models import Decision
from entraide.rules import selectors, services
from entraide.rules.models import ApplicationEvaluation, RuleSetVersion
from entraide.rules.records import Benefit, Cancellation, PersonEvidence
from entraide.rules.tests.factories import (
    NETFLIX_AUDIENS,
    SIMPLE_RULES,
    RuleSetVersionFactory,
    rules_with,
)

Role = FundRole.Role
pytestmark = pytest.mark.django_db


def staff(fund: Fund, role: str = Role.OPERATOR_ADMIN) -> Any:
    return FundRoleFactory.create(fund=fund, role=role).user


def worked(nir: str, days: int, start: dt.date = dt.date(2019, 10, 1)) -> None:
    """An employer declaration of ``days`` consecutive days from ``start``."""
    EmployerDeclarationFactory.create(nir=nir, start=start, end=start + dt.timedelta(days - 1))


def published(fund: Fund, source: str = SIMPLE_RULES) -> RuleSetVersion:
    admin = staff(fund)
    return services.publish_version(
        actor=admin, version=services.save_draft(actor=admin, fund=fund, source=source)
    )


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


# --------------------------------------------------------------------------------------------
# Evidence as the engine reads it
# --------------------------------------------------------------------------------------------


def test_person_evidence_reads_the_four_kinds_of_records_in_four_queries(
    django_assert_num_queries: Any,
) -> None:
    nir = "185037512345678"
    worked(nir, 5)
    RightsRecordFactory.create(nir=nir)
    BenefitRecordFactory.create(nir=nir, scheme="general", end=dt.date(2020, 5, 1))
    CancellationRecordFactory.create(nir=nir, date=dt.date(2020, 4, 2), cachets=2)
    worked("299999999999999", 3)  # someone else's

    with django_assert_num_queries(4):
        evidence = person_evidence(blind_index("nir", nir))

    assert len(evidence.declarations) == 1
    assert evidence.declarations[0].end == dt.date(2019, 10, 5)
    assert evidence.rights[0].annex == "8"
    assert evidence.benefits == (Benefit("general", dt.date(2020, 3, 1), dt.date(2020, 5, 1)),)
    assert evidence.cancellations == (
        Cancellation(evidence.cancellations[0].siret, dt.date(2020, 4, 2), 2, dt.date(2020, 1, 15)),
    )
    assert person_evidence(blind_index("nir", "100000000000000")) == PersonEvidence()
    assert person_evidence(nir) == PersonEvidence()  # records know the index only


def test_evidence_of_many_people_is_four_queries_whatever_their_number(
    django_assert_num_queries: Any,
) -> None:
    fund = FundFactory.create()
    applications = ApplicationFactory.create_batch(6, fund=fund)
    for application in applications:
        worked(application.nir, 3)

    with django_assert_num_queries(4):
        evidence = evidence_by_nir(Application.objects.filter(fund=fund).values("nir_index"))

    assert set(evidence) == {a.nir_index for a in applications}
    assert set(evidence) == {blind_index("nir", a.nir) for a in applications}


# --------------------------------------------------------------------------------------------
# Drafts and publication
# --------------------------------------------------------------------------------------------


def test_saving_a_draft_numbers_it_and_saving_again_updates_the_same_draft() -> None:
    fund = FundFactory.create()
    admin = staff(fund)

    first = services.save_draft(actor=admin, fund=fund, source=SIMPLE_RULES)
    again = services.save_draft(
        actor=admin, fund=fund, source=rules_with(**{"min_days: 12": "min_days: 10"})
    )

    assert first.pk == again.pk
    assert (again.number, again.status, again.label) == (1, "draft", "v1")
    assert again.effective_from == dt.date(2020, 1, 1)
    assert again.document["parameters"]["min_days"] == 10
    assert "min_days: 10" in again.source
    assert actions()[-2:] == ["rule_version.draft_created", "rule_version.draft_saved"]
    saved = AuditEvent.objects.get(action="rule_version.draft_saved")
    assert saved.fund_id == fund.pk
    assert set(saved.changes) == {"number", "source_sha256"}


def test_an_invalid_document_is_refused_with_every_problem_and_its_path() -> None:
    fund = FundFactory.create()
    source = rules_with(
        **{"test: days >= min_days": "test: dayz >= min_days", "currency: EUR": "currency: eur"}
    )

    with pytest.raises(services.RuleDocumentInvalid) as refused:
        services.save_draft(actor=staff(fund), fund=fund, source=source)

    assert refused.value.code == "rule_document_invalid"
    assert [problem.path for problem in refused.value.problems] == ["currency"]
    with pytest.raises(services.RuleDocumentInvalid) as refused:
        services.save_draft(
            actor=staff(fund),
            fund=fund,
            source=rules_with(**{"test: days >= min_days": "test: dayz >= min_days"}),
        )
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("criteria[0].test", "unknown name 'dayz'")
    ]
    assert not RuleSetVersion.objects.exists()


def test_a_document_in_another_currency_than_the_funds_is_refused_on_currency() -> None:
    fund = FundFactory.create(currency="GBP")

    with pytest.raises(services.RuleDocumentInvalid) as refused:
        services.save_draft(actor=staff(fund), fund=fund, source=SIMPLE_RULES)

    assert [problem.path for problem in refused.value.problems] == ["currency"]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.AUDITOR])
def test_only_the_operator_admin_may_draft_publish_preview_or_reevaluate(role: str) -> None:
    fund = FundFactory.create()
    version = RuleSetVersionFactory.create(rule_set__fund=fund, status="draft")
    person = staff(fund, role)

    with pytest.raises(PermissionDenied):
        services.save_draft(actor=person, fund=fund, source=SIMPLE_RULES)
    with pytest.raises(PermissionDenied):
        services.publish_version(actor=person, version=version)
    with pytest.raises(PermissionDenied):
        services.preview_version(actor=person, fund=fund, version=version)
    with pytest.raises(PermissionDenied):
        services.reevaluate_pending(actor=person, fund=fund, version=version)
    version.refresh_from_db()
    assert version.status == "draft"


def test_the_operator_admin_of_another_fund_cannot_draft_here() -> None:
    fund = FundFactory.create()
    with pytest.raises(PermissionDenied):
        services.save_draft(actor=staff(FundFactory.create()), fund=fund, source=SIMPLE_RULES)


def test_publishing_twice_is_refused_and_the_next_draft_is_version_two() -> None:
    fund = FundFactory.create()
    admin = staff(fund)
    version = services.publish_version(
        actor=admin, version=services.save_draft(actor=admin, fund=fund, source=SIMPLE_RULES)
    )

    with pytest.raises(InvalidTransition):
        services.publish_version(actor=admin, version=version)

    assert (version.status, version.published_by) == ("published", admin)
    assert version.published_at is not None
    assert actions().count("rule_version.published") == 1
    second = services.save_draft(actor=admin, fund=fund, source=SIMPLE_RULES)
    assert second.number == 2
    assert second.pk != version.pk


def test_the_version_in_force_is_the_latest_effective_on_or_before_the_date() -> None:
    fund = FundFactory.create()
    v1 = published(fund)
    v2 = published(fund, rules_with(**{"effective_from: 2020-01-01": "effective_from: 2020-11-20"}))
    published_draft = services.save_draft(
        actor=staff(fund),
        fund=fund,
        source=rules_with(**{"effective_from: 2020-01-01": "effective_from: 2020-06-01"}),
    )

    assert selectors.version_in_force(fund, dt.date(2019, 12, 31)) is None
    assert selectors.version_in_force(fund, dt.date(2020, 11, 19)) == v1
    assert selectors.version_in_force(fund, dt.date(2020, 11, 20)) == v2
    assert published_draft.status == "draft"  # drafts never apply
    assert selectors.current_version(fund) == v2


# --------------------------------------------------------------------------------------------
# Evaluating one application
# --------------------------------------------------------------------------------------------


def test_evaluating_stores_the_result_with_explanations_in_both_languages() -> None:
    application = ApplicationFactory.create(annual_resources=Decimal("15000.00"))
    version = published(application.fund)
    worked(application.nir, 14)

    evaluation = services.evaluate_application(
        actor=staff(application.fund, Role.REVIEWER), application=application
    )

    assert (evaluation.eligible, evaluation.amount, evaluation.currency) == (
        True,
        Decimal("900.00"),
        "EUR",
    )
    assert evaluation.version == version
    assert evaluation.is_current
    # the day it was submitted on the fund's clock (after 23:00 UTC, already tomorrow in Paris)
    assert evaluation.evaluated_on == application.fund.local_today(application.submitted_at)
    result = evaluation.result
    assert result["ref"] == application.reference
    assert result["components"] == {"grant": "900.00"}
    assert result["rule_set"] == {"name": "test-fund", "version": "v1", "number": 1}
    worked_result = result["criteria"][0]
    assert (worked_result["id"], worked_result["passed"], worked_result["value"]) == (
        "worked",
        True,
        14,
    )
    assert worked_result["explanations"] == {
        "fr": "Vous avez travaillé 14 jours ; 12 sont requis.",
        "en": "You worked 14 days; 12 are required.",
    }
    assert worked_result["label"]["en"] == "Worked 12 days"
    event = AuditEvent.objects.get(action="application.evaluated")
    assert event.changes["rule_version"] == 1
    assert event.changes["eligible"] == {"before": None, "after": True}
    assert event.object_id == str(application.pk)


def test_evaluating_again_with_the_same_evidence_stores_nothing_new() -> None:
    application = ApplicationFactory.create()
    published(application.fund)
    reviewer = staff(application.fund, Role.REVIEWER)
    worked(application.nir, 3)

    first = services.evaluate_application(actor=reviewer, application=application)
    again = services.evaluate_application(actor=reviewer, application=application)

    assert again.pk == first.pk
    assert ApplicationEvaluation.objects.count() == 1
    assert actions().count("application.evaluated") == 1

    worked(application.nir, 10, start=dt.date(2019, 12, 1))  # new evidence arrives
    third = services.evaluate_application(actor=reviewer, application=application)

    assert third.pk != first.pk
    assert (first.eligible, third.eligible) == (False, True)
    first.refresh_from_db()
    assert not first.is_current
    assert selectors.current_evaluation(application.pk) == third
    assert ApplicationEvaluation.objects.filter(application=application).count() == 2


def test_benefits_paid_on_the_submission_day_exclude_the_applicant() -> None:
    application = ApplicationFactory.create()
    published(application.fund)
    worked(application.nir, 20)
    BenefitRecordFactory.create(nir=application.nir, start=dt.date(2020, 3, 1), end=None)

    evaluation = services.evaluate_application(actor=None, application=application)

    assert not evaluation.eligible
    assert evaluation.amount == 0
    passed = {c["id"]: c["passed"] for c in evaluation.result["criteria"]}
    assert passed == {"worked": True, "receives_benefits": True}


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OPERATOR_ADMIN, True),
        (Role.REVIEWER, True),
        (Role.APPROVER, True),
        (Role.FINANCE, False),
        (Role.AUDITOR, False),
    ],
)
def test_who_may_evaluate_an_application(role: str, allowed: bool) -> None:
    application = ApplicationFactory.create()
    published(application.fund)
    person = staff(application.fund, role)

    if allowed:
        assert services.evaluate_application(actor=person, application=application).pk
    else:
        with pytest.raises(PermissionDenied):
            services.evaluate_application(actor=person, application=application)
        assert not ApplicationEvaluation.objects.exists()


def test_without_a_version_in_force_evaluation_is_refused() -> None:
    application = ApplicationFactory.create()
    services.save_draft(actor=staff(application.fund), fund=application.fund, source=SIMPLE_RULES)

    with pytest.raises(services.NoRulesInForce):
        services.evaluate_application(actor=None, application=application)


def test_a_declared_fact_the_rules_cannot_read_is_refused_with_its_name() -> None:
    source = rules_with(
        **{
            "    label: {fr: Ressources annuelles, en: Annual resources}\n": (
                "    label: {fr: Ressources annuelles, en: Annual resources}\n"
                "  - id: abroad\n    type: boolean\n    label: {fr: Étranger, en: Abroad}\n"
            )
        }
    )
    application = ApplicationFactory.create(declared={"abroad": "perhaps"})
    published(application.fund, source)

    with pytest.raises(services.FactsUnreadable) as refused:
        services.evaluate_application(actor=None, application=application)

    assert "abroad" in str(refused.value)


def submit(fund: Fund, declared: dict[str, Any] | None = None) -> Application:
    """A real submission through the portal's service."""
    import uuid

    from entraide.accounts.tests.factories import UserFactory
    from entraide.applications.services import submit_application
    from entraide.applications.tests.factories import submission_data

    return submit_application(
        actor=UserFactory.create(),
        fund=fund,
        idempotency_key=str(uuid.uuid4()),
        data=submission_data(declared=declared or {}),
    ).application


def test_a_submission_is_evaluated_in_the_background_when_the_fund_has_rules(
    django_capture_on_commit_callbacks: Any,
) -> None:
    fund = FundFactory.create()
    published(fund)
    with django_capture_on_commit_callbacks(execute=True):
        application = submit(fund, {"annual_resources": "12000", "days": 14})

    evaluation = selectors.current_evaluation(application.pk)
    assert evaluation is not None
    assert evaluation.evaluated_by is None
    assert len(mail.outbox) == 1  # the receipt still goes


def test_a_submission_to_a_fund_without_rules_is_not_evaluated(
    django_capture_on_commit_callbacks: Any,
) -> None:
    fund = FundFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        submit(fund)

    assert not ApplicationEvaluation.objects.exists()


# --------------------------------------------------------------------------------------------
# Decisions name their rule version and take the evaluation's amount
# --------------------------------------------------------------------------------------------


def test_a_decision_records_the_rule_version_and_grants_the_evaluations_amount() -> None:
    application = ApplicationFactory.create(annual_resources=Decimal("20000.00"))
    version = published(application.fund)
    worked(application.nir, 12)
    reviewer = staff(application.fund, Role.REVIEWER)
    services.evaluate_application(actor=reviewer, application=application)

    decision = approve(reviewer, application)

    assert (decision.amount, decision.rule_version) == (Decimal("500.00"), version)
    event = AuditEvent.objects.get(action="decision.recorded")
    assert event.changes["rule_version"] == {"before": None, "after": 1}


def test_without_an_eligible_evaluation_the_standard_amount_is_the_default() -> None:
    application = ApplicationFactory.create(fund__standard_amount=Decimal("650.00"))
    published(application.fund)
    reviewer = staff(application.fund, Role.REVIEWER)
    services.evaluate_application(actor=reviewer, application=application)  # 0 days: not eligible

    proposal = review_services.approve_application(actor=reviewer, application=application)
    assert proposal.second_approval is not None  # against the rules: four eyes
    decision = review_services.confirm_second_approval(
        actor=staff(application.fund, Role.APPROVER), second_approval=proposal.second_approval
    ).decision

    assert decision is not None
    assert decision.amount == Decimal("650.00")
    assert decision.rule_version is not None
    other = ApplicationFactory.create()
    plain = approve(staff(other.fund, Role.REVIEWER), other)
    assert (plain.amount, plain.rule_version) == (Decimal("500.00"), None)


def approve(reviewer: Any, application: Application) -> Decision:
    decision = review_services.approve_application(actor=reviewer, application=application).decision
    assert decision is not None
    return decision


# --------------------------------------------------------------------------------------------
# Preview and re-evaluation of the pending applications
# --------------------------------------------------------------------------------------------


def crafted_fund() -> tuple[Fund, RuleSetVersion, dict[str, Application]]:
    """A fund whose five pending applications are evaluated under v1 (12 days required),
    one decided application, and a budget of €3,000 of which €900 is committed."""
    fund = FundFactory.create(budget=Decimal("3000.00"))
    v1 = published(fund)
    people = {
        "stays": ApplicationFactory.create(fund=fund, annual_resources=Decimal("10000")),
        "gains": ApplicationFactory.create(fund=fund, annual_resources=Decimal("10000")),
        "still_out": ApplicationFactory.create(fund=fund, annual_resources=Decimal("10000")),
        "loses": ApplicationFactory.create(fund=fund, annual_resources=Decimal("10000")),
        "new": ApplicationFactory.create(fund=fund, annual_resources=Decimal("30000")),
        "decided": ApplicationFactory.create(fund=fund, annual_resources=Decimal("10000")),
    }
    worked(people["stays"].nir, 20)
    worked(people["gains"].nir, 8)
    worked(people["still_out"].nir, 2)
    worked(people["loses"].nir, 12)
    worked(people["new"].nir, 9)
    worked(people["decided"].nir, 30)
    reviewer = staff(fund, Role.REVIEWER)
    for name in ("stays", "gains", "still_out", "loses", "decided"):
        services.evaluate_application(actor=reviewer, application=people[name])
    approve(reviewer, people["decided"])
    # After v1 was applied, the "loses" applicant started receiving benefits.
    BenefitRecordFactory.create(nir=people["loses"].nir)
    return fund, v1, people


def test_the_preview_shows_who_gains_and_who_loses_against_the_budget_left() -> None:
    fund, _v1, people = crafted_fund()
    admin = staff(fund)
    v2 = services.save_draft(
        actor=admin, fund=fund, source=rules_with(**{"min_days: 12": "min_days: 8"})
    )

    preview = services.preview_version(actor=admin, fund=fund, version=v2)

    assert preview.pending == 5
    assert preview.eligible == 3  # stays, gains, new
    assert preview.total == Decimal("2300.00")  # 900 + 900 + 500
    assert (preview.eligible_before, preview.total_before) == (2, Decimal("1800.00"))
    assert preview.budget_left == Decimal("2100.00")
    assert preview.over_budget == Decimal("200.00")
    assert preview.difference == Decimal("500.00")
    assert [(c.reference, c.before_amount, c.after_amount) for c in preview.gainers] == sorted(
        [
            (people["gains"].reference, Decimal(0), Decimal("900.00")),
            (people["new"].reference, Decimal(0), Decimal("500.00")),
        ],
        key=lambda row: -row[2],
    )
    assert preview.gainers[1].before_eligible is None  # never evaluated
    assert [(c.reference, c.difference) for c in preview.losers] == [
        (people["loses"].reference, Decimal("-900.00"))
    ]
    assert preview.unchanged == 2  # stays (900 → 900) and still_out (not eligible either way)
    # Nothing was stored.
    assert ApplicationEvaluation.objects.filter(version=v2).count() == 0


def test_reevaluating_stores_the_previewed_results_with_one_audit_event() -> None:
    fund, v1, people = crafted_fund()
    admin = staff(fund)
    v2 = services.save_draft(
        actor=admin, fund=fund, source=rules_with(**{"min_days: 12": "min_days: 8"})
    )
    preview = services.preview_version(actor=admin, fund=fund, version=v2)
    with pytest.raises(InvalidTransition):
        services.reevaluate_pending(actor=admin, fund=fund, version=v2)
    services.publish_version(actor=admin, version=v2)
    before = len(actions())

    done = services.reevaluate_pending(
        actor=admin, fund=fund, version=v2, expected_fingerprint=preview.fingerprint
    )

    assert done.task_id is None
    assert done.counts is not None
    assert (done.counts["eligible"], done.counts["total"], done.counts["stored"]) == (
        3,
        "2300.00",
        5,
    )
    assert (done.counts["gainers"], done.counts["losers"]) == (2, 1)
    assert actions()[before:] == ["rule_set.pending_reevaluated"]
    current = {
        name: selectors.current_evaluation(application.pk) for name, application in people.items()
    }
    assert {name: (e.version_id, e.eligible) for name, e in current.items() if e} == {
        "stays": (v2.pk, True),
        "gains": (v2.pk, True),
        "still_out": (v2.pk, False),
        "loses": (v2.pk, False),
        "new": (v2.pk, True),
        "decided": (v1.pk, True),  # decided: not pending, left alone
    }
    assert ApplicationEvaluation.objects.filter(is_current=True).count() == 6

    again = services.reevaluate_pending(actor=admin, fund=fund, version=v2)
    assert again.counts is not None
    assert again.counts["stored"] == 0


def test_reevaluating_after_the_figures_changed_is_refused() -> None:
    fund, _v1, people = crafted_fund()
    admin = staff(fund)
    v2 = published(fund, rules_with(**{"min_days: 12": "min_days: 8"}))
    preview = services.preview_version(actor=admin, fund=fund, version=v2)
    worked(people["still_out"].nir, 10, start=dt.date(2019, 12, 1))

    with pytest.raises(services.PreviewOutdated):
        services.reevaluate_pending(
            actor=admin, fund=fund, version=v2, expected_fingerprint=preview.fingerprint
        )

    assert not ApplicationEvaluation.objects.filter(version=v2).exists()


def test_many_pending_applications_are_reevaluated_by_a_task_reporting_progress(
    monkeypatch: Any,
) -> None:
    from entraide.core.models import TaskProgress

    monkeypatch.setattr(services, "SYNC_REEVALUATION_LIMIT", 3)
    monkeypatch.setattr(services, "REEVALUATION_CHUNK", 2)
    fund, _v1, _people = crafted_fund()
    admin = staff(fund)
    v2 = published(fund, rules_with(**{"min_days: 12": "min_days: 8"}))

    started = services.reevaluate_pending(actor=admin, fund=fund, version=v2)

    assert started.task_id is not None
    assert started.counts is None
    progress = TaskProgress.objects.get()
    assert (progress.done, progress.total) == (5, 5)
    event = AuditEvent.objects.get(action="rule_set.pending_reevaluated")
    assert (event.changes["stored"], event.changes["eligible"]) == (5, 3)
    assert actions().count("rule_set.reevaluation_requested") == 1
    assert ApplicationEvaluation.objects.filter(version=v2, is_current=True).count() == 5


def test_the_netflix_audiens_document_evaluates_an_application_from_its_evidence() -> None:
    application = ApplicationFactory.create(annual_resources=Decimal("14200.00"))
    version = published(application.fund, NETFLIX_AUDIENS)
    worked(application.nir, 12, start=dt.date(2019, 11, 1))

    evaluation = services.evaluate_application(actor=None, application=application)

    assert evaluation.version == version
    assert (evaluation.eligible, evaluation.amount) == (True, Decimal("900.00"))
    by_id = {c["id"]: c for c in evaluation.result["criteria"]}
    assert by_id["worked_12_days"]["explanations"]["fr"] == (
        "Vous avez travaillé 12 jours entre le 01/09/2019 et le 29/02/2020 ; 12 sont requis."
    )
    assert Decision.objects.count() == 0


def test_a_decided_application_keeps_the_evaluation_it_was_decided_on() -> None:
    application = ApplicationFactory.create()
    published(application.fund)
    worked(application.nir, 14)
    reviewer = staff(application.fund, Role.REVIEWER)
    evaluation = services.evaluate_application(actor=reviewer, application=application)
    decision = approve(reviewer, application)
    worked(application.nir, 30, start=dt.date(2020, 1, 1))  # evidence that comes later

    with pytest.raises(InvalidTransition):
        services.evaluate_application(actor=reviewer, application=application)

    assert selectors.current_evaluation(application.pk) == evaluation
    assert decision.rule_version == evaluation.version


def test_a_published_version_is_in_force_at_once_for_the_process_that_kept_the_rules(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ENTRAIDE_HOT_CACHE_SECONDS = 60
    fund = FundFactory.create()
    v1 = published(fund)
    day = dt.date(2020, 12, 1)
    assert selectors.document_in_force(fund, day) == selectors.document_of(v1)  # now kept
    admin = FundRoleFactory.create(fund=fund, role=FundRole.Role.OPERATOR_ADMIN).user
    source = rules_with(**{"effective_from: 2020-01-01": "effective_from: 2020-11-20"})
    with django_capture_on_commit_callbacks(execute=True):
        draft = services.save_draft(actor=admin, fund=fund, source=source)
        v2 = services.publish_version(actor=admin, version=draft)
    assert selectors.document_in_force(fund, day) == selectors.document_of(v2)
