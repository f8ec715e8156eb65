"""What the integrity pages read: a fund's links from either side, a link field by field, the
panel of an application in two queries, a check's crowded values, the report's counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from entraide.accounts.models import User
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.integrity import selectors, services
from entraide.integrity.tests.factories import LinkFactory
from entraide.payments.tests.helpers import member_of
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.review import flags
from entraide.review import selectors as review_selectors
from entraide.review.tests.factories import FlagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme_funds() -> tuple[Fund, Fund]:
    programme = ProgrammeFactory()
    return FundFactory.create(programme=programme), FundFactory.create(programme=programme)


@pytest.fixture
def approver(programme_funds: tuple[Fund, Fund]) -> User:
    user = member_of(programme_funds[0], FundRole.Role.APPROVER)
    FundRole.objects.create(fund=programme_funds[1], user=user, role=FundRole.Role.APPROVER)
    return user


def test_a_link_is_in_the_queue_of_both_its_funds_seen_from_each(
    programme_funds: tuple[Fund, Fund],
) -> None:
    first, second = programme_funds
    link = LinkFactory(left__fund=first, right__fund=second)

    for fund, own, other in ((first, link.left, link.right), (second, link.right, link.left)):
        page = selectors.queue_page(fund, selectors.Queue.TO_REVIEW, size=10)
        [row] = [selectors.row_of(found, fund.pk, {first.pk}) for found in page]
        assert (row.own.reference, row.other.reference) == (own.reference, other.reference)
        assert row.other.fund.pk == other.fund_id
        assert row.own.viewable is (own.fund_id == first.pk)
        assert row.involves_fund


def test_the_counts_of_the_lists(fund_and_reviewer: tuple[Fund, User]) -> None:
    fund, reviewer = fund_and_reviewer
    LinkFactory(left__fund=fund)
    LinkFactory(left__fund=fund, flagged=False)
    LinkFactory(left__fund=fund, status="confirmed", decided_by=reviewer)

    counts = {queue: count for queue, _label, count, _more in selectors.queue_counts(fund)}

    assert counts == {"review": 1, "open": 2, "confirmed": 1, "dismissed": 0}


@pytest.fixture
def fund_and_reviewer() -> tuple[Fund, User]:
    fund = FundFactory.create()
    return fund, member_of(fund, FundRole.Role.REVIEWER)


def test_a_link_scored_by_no_model_or_an_older_one_still_reads(
    fund_and_reviewer: tuple[Fund, User],
) -> None:
    fund, _reviewer = fund_and_reviewer
    shared_only = LinkFactory(left__fund=fund, evidence=[], match_weight=None)
    older = LinkFactory(
        left__fund=fund, evidence=[{"field": "address", "level": 9, "weight": -2.0}]
    )

    with translation.override("en"):
        plain = selectors.comparisons(shared_only, {fund.pk})
        rows = {row.label: row for row in selectors.comparisons(older, {fund.pk})}

    assert {(row.level, row.weight, row.bar) for row in plain} == {("", None, 0)}
    assert (rows["Address"].level, rows["Address"].weight, rows["Address"].bar) == (
        "level 9",
        -2.0,
        100,
    )


def test_the_panel_of_an_application_reads_two_queries(
    programme_funds: tuple[Fund, Fund], approver: User, django_assert_num_queries: Any
) -> None:
    first, second = programme_funds
    application = ApplicationFactory(fund=first)
    confirmed = LinkFactory(left=application, right__fund=second)
    for _ in range(5):
        LinkFactory(left=application, right__fund=first)
    services.decide_link(actor=approver, link=confirmed, same_person=True)
    application.refresh_from_db()

    with django_assert_num_queries(2):
        panel = selectors.panel_of(application)

    assert len(panel.links) == 6
    assert {row.own.reference for row in panel.links} == {application.reference}
    cross = next(row for row in panel.links if row.link == confirmed)
    assert cross.other.fund == second
    assert [(record.reference, record.fund) for record in panel.person] == [
        (confirmed.right.reference, second)
    ]


def test_the_people_of_applications_confirmed_together(
    fund_and_reviewer: tuple[Fund, User],
) -> None:
    fund, reviewer = fund_and_reviewer
    first = LinkFactory(left__fund=fund)
    second = LinkFactory(left=first.right, right__fund=fund)
    services.decide_link(actor=reviewer, link=first, same_person=True)
    services.decide_link(actor=reviewer, link=second, same_person=True)
    alone = ApplicationFactory(fund=fund)

    people = selectors.people_of([first.left_id, second.right_id, alone.pk], {fund.pk})

    expected = [first.left.reference, first.right.reference, second.right.reference]
    assert [record.reference for record in people[first.left_id]] == expected
    assert people[second.right_id] == people[first.left_id]
    assert alone.pk not in people
    assert all(record.status for record in people[first.left_id])
    # Of a fund the reader may not view: which applications, not where they stand.
    hidden = selectors.people_of([first.left_id], set())
    assert [record.status for record in hidden[first.left_id]] == ["", "", ""]


def test_crowded_values_are_named_by_what_they_are_with_their_references(
    fund_and_reviewer: tuple[Fund, User],
) -> None:
    fund, _reviewer = fund_and_reviewer
    applications = ApplicationFactory.create_batch(2, fund=fund)

    with translation.override("en"):
        [entry] = selectors.crowded(
            [{"key": "phone", "size": 64, "applications": [a.pk for a in applications] + [0]}]
        )

    assert (entry.label, entry.size) == ("Telephone", 64)
    assert entry.references == [a.reference for a in applications]  # a deleted one is skipped


def test_the_report_counts_across_funds(programme_funds: tuple[Fund, Fund], approver: User) -> None:
    first, second = programme_funds
    confirmed = LinkFactory(left__fund=first, right__fund=second, reasons=["nir", "iban"])
    services.decide_link(actor=approver, link=confirmed, same_person=True)
    LinkFactory(left__fund=first, reasons=["phone"])
    LinkFactory(left__fund=second, reasons=["nir"])  # the other fund's only

    with translation.override("en"):
        report = selectors.report(first)

    assert dict(report.by_status) == {"To review": 1, "Same person": 1, "Different people": 0}
    assert dict(report.by_reason) == {
        "same social security number": 1,
        "same bank account": 1,
        "same e-mail address": 0,
        "same telephone": 1,
    }
    assert report.scored_only == 0
    assert (report.people, report.people_applications, report.people_across_funds) == (1, 2, 1)


def test_the_platform_flag_counts_leave_out_reviewers_flags_and_other_funds(
    fund_and_reviewer: tuple[Fund, User],
) -> None:
    fund, reviewer = fund_and_reviewer
    applications = ApplicationFactory.create_batch(3, fund=fund)
    check = applications[0]
    flags.raise_platform_flags(
        [(a.pk, fund.pk, "shared_account", "") for a in applications], check=check
    )
    flags.resolve_platform_flags(
        actor=reviewer, application_ids=[check.pk], code="shared_account", resolution="Checked."
    )
    FlagFactory(application=applications[1])  # a reviewer's
    other = ApplicationFactory()
    flags.raise_platform_flags([(other.pk, other.fund_id, "shared_account", "")], check=other)

    counts = review_selectors.platform_flag_counts(fund, ["shared_account", "shared_contact"])

    assert counts == {"shared_account": (3, 2)}


def test_another_funds_application_shows_its_contacts_by_their_ends(
    programme_funds: tuple[Fund, Fund],
) -> None:
    first, second = programme_funds
    link = LinkFactory(
        left__fund=first,
        right__fund=second,
        right__email="camille.martin@example.org",
        right__phone="+33 6 12 34 56 78",
        right__address_line="12 rue des Lilas",
        right__postcode="69003",
        right__city="Lyon",
    )
    with translation.override("en"):
        shown = {row.label: row.right for row in selectors.comparisons(link, {first.pk})}
        in_full = {
            row.label: row.right for row in selectors.comparisons(link, {first.pk, second.pk})
        }
    assert (shown["E-mail"], shown["Telephone"], shown["Address"]) == (
        "•••• .org",
        "•••• 6 78",
        "69003 Lyon",
    )
    assert shown["Name"] == in_full["Name"] == link.right.full_name
    assert in_full["Address"] == "12 rue des Lilas, 69003 Lyon"
    assert in_full["E-mail"] == "camille.martin@example.org"


def test_the_link_page_lists_only_the_funds_other_links(
    programme_funds: tuple[Fund, Fund],
) -> None:
    first, second = programme_funds
    third = FundFactory(programme=first.programme)
    link = LinkFactory(left__fund=first, right__fund=second)
    theirs = LinkFactory(left=link.right, right__fund=third)
    ours = LinkFactory(left=link.left, right__fund=first)
    listed = [row.link for row in selectors.neighbours(link, first, {first.pk})]
    assert listed == [ours]
    assert theirs not in [row.link for row in selectors.neighbours(link, first, {first.pk})]
