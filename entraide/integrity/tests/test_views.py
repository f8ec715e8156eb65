"""The integrity checks through their pages: the queue and its lists, a full check requested,
a link side by side and its decision, the settings, the report, the panel of an application's
page; who may do what, and bounded queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from entraide.accounts.models import User
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.worker import DATABASE_TASKS
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.integrity import linkage, services
from entraide.integrity.models import IntegritySettings, Link, LinkageRun, PersonRecord
from entraide.integrity.signals import POSSIBLE_DUPLICATE
from entraide.integrity.tests.factories import LinkageRunFactory, LinkFactory
from entraide.integrity.tests.helpers import second_application, stranger
from entraide.payments.tests.helpers import member_of
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.review.models import Flag

Role = FundRole.Role
pytestmark = pytest.mark.django_db


@pytest.fixture
def fund() -> Fund:
    fund: Fund = FundFactory(slug="relief", name="Relief fund")
    return fund


@pytest.fixture
def reviewer(fund: Fund) -> User:
    return member_of(fund, Role.REVIEWER)


def url(name: str, fund: Fund, *args: Any) -> str:
    return reverse(name, args=[fund.slug, *args])


def duplicate_pair(fund: Fund, other_fund: Fund | None = None) -> Link:
    """A person applying twice (a typo in the last name, the same bank account), found by the
    check that follows a submission: flagged on both applications."""
    first = stranger(fund)
    again = second_application(first, fund=other_fund or fund)
    services.check_application(again.pk)
    return Link.objects.get(left=first, right=again)


# -- the queue ---------------------------------------------------------------------------------


def test_the_queue_lists_the_pairs_to_review_by_default_with_their_counts(
    client: Client, fund: Fund, reviewer: User
) -> None:
    flagged = LinkFactory(left__fund=fund, match_weight=14.2, match_probability=0.99994)
    listed = LinkFactory(left__fund=fund, flagged=False, match_weight=6.0, reasons=[])
    dismissed = LinkFactory(left__fund=fund, status=Link.Status.DISMISSED, decided_by=reviewer)
    LinkFactory()  # another fund's
    client.force_login(reviewer)

    response = client.get(url("integrity_queue", fund))

    assert response.status_code == 200
    assert [row.link for row in response.context["rows"]] == [flagged]
    counts = {value: count for value, _label, count, _more in response.context["queues"]}
    assert counts == {"review": 1, "open": 2, "confirmed": 0, "dismissed": 1}
    html = response.content.decode()
    assert flagged.left.reference in html
    assert flagged.right.reference in html
    assert reverse("staff_application", args=[fund.slug, flagged.left.reference]) in html
    assert reverse("integrity_link", args=[fund.slug, flagged.pk]) in html
    assert "same bank account" in html
    assert "+14.2" in html
    assert "99.9%" in html
    assert listed.left.reference not in html
    assert dismissed.left.reference not in html


@pytest.mark.parametrize(
    ("queue", "expected"), [("open", {"flagged", "listed"}), ("dismissed", {"dismissed"})]
)
def test_the_queue_shows_the_list_asked_for(
    client: Client, fund: Fund, reviewer: User, queue: str, expected: set[str]
) -> None:
    links = {
        "flagged": LinkFactory(left__fund=fund),
        "listed": LinkFactory(left__fund=fund, flagged=False),
        "dismissed": LinkFactory(
            left__fund=fund, status=Link.Status.DISMISSED, decided_by=reviewer
        ),
    }
    client.force_login(reviewer)

    response = client.get(url("integrity_queue", fund), {"queue": queue})

    shown = {row.link.pk for row in response.context["rows"]}
    assert shown == {links[name].pk for name in expected}
    assert response.context["queue"] == queue


def test_an_unknown_list_shows_the_pairs_to_review(
    client: Client, fund: Fund, reviewer: User
) -> None:
    client.force_login(reviewer)

    response = client.get(url("integrity_queue", fund), {"queue": "everything"})

    assert response.status_code == 200
    assert response.context["queue"] == "review"


def test_the_other_application_of_another_fund_of_the_programme_names_its_fund(
    client: Client,
) -> None:
    programme = ProgrammeFactory()
    fund = FundFactory.create(programme=programme, name="Fund of films")
    other = FundFactory.create(programme=programme, name="Fund of series")
    link = LinkFactory(left__fund=fund, right__fund=other)
    reviewer = member_of(fund, Role.REVIEWER)
    client.force_login(reviewer)

    html = client.get(url("integrity_queue", fund)).content.decode()

    assert f"{link.right.reference} (Fund of series)" in html
    # Its page is the other fund's, which this reviewer may not open.
    assert reverse("staff_application", args=[other.slug, link.right.reference]) not in html
    assert reverse("staff_application", args=[fund.slug, link.left.reference]) in html

    # Someone of both funds opens either.
    member_of(other, Role.REVIEWER)
    both = member_of(fund, Role.REVIEWER)
    FundRole.objects.create(fund=other, user=both, role=Role.REVIEWER)
    client.force_login(both)
    html = client.get(url("integrity_queue", other)).content.decode()
    assert reverse("staff_application", args=[fund.slug, link.left.reference]) in html
    assert f"{link.left.reference}</a> (Fund of films)" in html


@pytest.mark.parametrize("links", [1, 12])
def test_the_queue_reads_a_bounded_number_of_queries(
    client: Client,
    fund: Fund,
    reviewer: User,
    django_assert_max_num_queries: Any,
    links: int,
) -> None:
    programme = ProgrammeFactory()
    Fund.objects.filter(pk=fund.pk).update(programme=programme)
    other = FundFactory.create(programme=programme)
    for number in range(links):
        LinkFactory(left__fund=fund, right__fund=other if number % 2 else fund)
        LinkageRunFactory(fund=fund)
    client.force_login(reviewer)

    with django_assert_max_num_queries(13):
        response = client.get(url("integrity_queue", fund))

    assert len(response.context["rows"]) == links
    assert len(response.context["runs"]) == min(links, 10)


def test_the_queue_is_paged_by_keys(
    client: Client, fund: Fund, reviewer: User, settings: Any
) -> None:
    settings.BACKOFFICE_PAGE_SIZE = 2
    links = [LinkFactory(left__fund=fund) for _ in range(5)]
    client.force_login(reviewer)

    first = client.get(url("integrity_queue", fund)).context["page"]
    second = client.get(
        url("integrity_queue", fund), {"queue": "review", "after": first.next_cursor, "page": 2}
    ).context["page"]

    assert [link.pk for link in first] == [links[0].pk, links[1].pk]
    assert [link.pk for link in second] == [links[2].pk, links[3].pk]
    assert first.count == 5


# -- full checks -------------------------------------------------------------------------------


def test_a_reviewer_requests_a_full_check_and_a_second_is_refused_meanwhile(
    client: Client, fund: Fund, reviewer: User, settings: Any
) -> None:
    settings.TASKS = DATABASE_TASKS  # queued for the worker, not run here
    client.force_login(reviewer)

    response = client.post(url("integrity_check_request", fund))

    run = LinkageRun.objects.get(fund=fund)
    assert response.status_code == 302
    assert response["Location"] == url("integrity_run", fund, run.pk)
    assert (run.status, run.requested_by) == (LinkageRun.Status.QUEUED, reviewer)
    queue = client.get(url("integrity_queue", fund)).content.decode()
    assert "A check is queued or running" in queue
    assert "Run a full duplicate check" not in queue

    again = client.post(url("integrity_check_request", fund), follow=True)

    assert LinkageRun.objects.filter(fund=fund).count() == 1
    assert "A duplicate check of this fund is already queued or running." in (
        again.content.decode()
    )


def test_who_does_not_decide_is_offered_no_check(client: Client, fund: Fund) -> None:
    client.force_login(member_of(fund, Role.AUDITOR))

    html = client.get(url("integrity_queue", fund)).content.decode()

    assert "Run a full duplicate check" not in html
    assert client.post(url("integrity_check_request", fund)).status_code == 404
    assert not LinkageRun.objects.exists()


def test_the_last_checks_show_what_they_found_and_why_one_failed(
    client: Client, fund: Fund, reviewer: User
) -> None:
    LinkageRunFactory(fund=fund, records=1234, links_created=17, flags_raised=9, trained=True)
    LinkageRunFactory(fund=fund, status=LinkageRun.Status.FAILED, error="Out of memory", records=0)
    client.force_login(reviewer)

    html = client.get(url("integrity_queue", fund)).content.decode()

    assert "1,234" in html
    assert "Trained on these applications" in html
    assert "Out of memory" in html


def test_a_check_lists_the_values_shared_by_too_many_by_what_they_are_not_their_value(
    client: Client, fund: Fund, reviewer: User
) -> None:
    sharing = ApplicationFactory.create_batch(3, fund=fund, iban="FR7630006000011234567890189")
    run = LinkageRunFactory(
        fund=fund,
        crowded=[
            {"key": "iban", "size": 73, "applications": [a.pk for a in sharing]},
            {"key": "email", "size": 51, "applications": [sharing[0].pk]},
        ],
    )
    client.force_login(reviewer)

    response = client.get(url("integrity_run", fund, run.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert [(entry.label, entry.size) for entry in response.context["crowded"]] == [
        ("IBAN", 73),
        ("E-mail", 51),
    ]
    assert ", ".join(a.reference for a in sharing) in html
    assert "FR7630006000011234567890189" not in html
    assert sharing[0].email not in html


def test_a_check_of_another_fund_is_not_found(client: Client, fund: Fund, reviewer: User) -> None:
    run = LinkageRunFactory()
    client.force_login(reviewer)

    assert client.get(url("integrity_run", fund, run.pk)).status_code == 404


# -- one link ----------------------------------------------------------------------------------


def test_the_link_page_compares_field_by_field_with_masked_identifiers(
    client: Client, fund: Fund, reviewer: User
) -> None:
    link = LinkFactory(
        left__fund=fund,
        left__first_name="Camille",
        left__last_name="Martin",
        right__first_name="Camille",
        right__last_name="Martinz",
    )
    client.force_login(reviewer)

    response = client.get(url("integrity_link", fund, link.pk))

    assert response.status_code == 200
    rows = {row.label: row for row in response.context["comparisons"]}
    assert list(rows) == [
        "Name",
        "Date of birth",
        "Social security number",
        "IBAN",
        "E-mail",
        "Telephone",
        "Address",
    ]
    assert (rows["Name"].left, rows["Name"].right) == ("Camille Martin", "Camille Martinz")
    with translation.override("en"):
        assert rows["Name"].level == linkage.level_label("name", 6)
        assert rows["IBAN"].level == linkage.level_label("iban", 1) == "same account"
    assert rows["IBAN"].bar == 100
    assert rows["Telephone"].level == "missing on one side"
    html = response.content.decode()
    for application in (link.left, link.right):
        # Decrypted only to be masked; the blind indexes compared are not shown either.
        assert application.nir not in html
        assert application.iban not in html
        assert f"•••• {application.nir[-4:]}" in html
        assert f"{application.iban[:4]} •••• {application.iban[-4:]}" in html
        assert application.nir_index not in html
        assert application.iban_index not in html
    assert "+9.8" in html
    assert "\u22123.5" in html
    assert "+14.2" in html
    assert "99.9%" in html
    assert "same bank account" in html
    assert 'name="decision"' in html


def test_a_link_without_the_fund_is_not_found(client: Client, fund: Fund, reviewer: User) -> None:
    link = LinkFactory()
    client.force_login(reviewer)

    assert client.get(url("integrity_link", fund, link.pk)).status_code == 404
    assert client.post(url("integrity_link", fund, link.pk), {}).status_code == 404


def test_the_link_page_lists_the_other_pairs_of_either_application(
    client: Client, fund: Fund, reviewer: User
) -> None:
    link = LinkFactory(left__fund=fund)
    third = ApplicationFactory(fund=fund)
    neighbour = LinkFactory(left=link.right, right=third, reasons=["phone"])
    LinkFactory(left__fund=fund)  # unrelated
    client.force_login(reviewer)

    response = client.get(url("integrity_link", fund, link.pk))

    assert [row.link for row in response.context["neighbours"]] == [neighbour]
    assert reverse("integrity_link", args=[fund.slug, neighbour.pk]) in (response.content.decode())


def test_dismissing_needs_a_note_and_keeps_the_choice(
    client: Client, fund: Fund, reviewer: User
) -> None:
    link = duplicate_pair(fund)
    client.force_login(reviewer)

    response = client.post(url("integrity_link", fund, link.pk), {"decision": "different"})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"note": ["Say why these are different people."]}
    html = response.content.decode()
    assert 'id="id_note_error"' in html
    assert 'value="different" required id="id_decision_1" checked' in html
    link.refresh_from_db()
    assert link.status == Link.Status.OPEN


def test_a_reviewer_dismisses_a_pair_with_a_note_and_its_flags_close(
    client: Client, fund: Fund, reviewer: User
) -> None:
    link = duplicate_pair(fund)
    assert Flag.objects.filter(code=POSSIBLE_DUPLICATE, resolved_at__isnull=True).count() == 2
    client.force_login(reviewer)

    response = client.post(
        url("integrity_link", fund, link.pk),
        {"decision": "different", "note": "Twins: different first names on their ID."},
        follow=True,
    )

    link.refresh_from_db()
    assert link.status == Link.Status.DISMISSED
    assert link.decided_by == reviewer
    assert not Flag.objects.filter(resolved_at__isnull=True).exists()
    html = response.content.decode()
    assert (
        f"Recorded: {link.left.reference} and {link.right.reference} are different people." in html
    )
    assert "Twins: different first names on their ID." in html
    assert response.context["form"] is None


def test_a_reviewer_confirms_one_person_and_the_page_lists_their_applications(
    client: Client, fund: Fund, reviewer: User
) -> None:
    link = duplicate_pair(fund)
    client.force_login(reviewer)

    response = client.post(
        url("integrity_link", fund, link.pk), {"decision": "same", "note": ""}, follow=True
    )

    link.refresh_from_db()
    assert link.status == Link.Status.CONFIRMED
    assert PersonRecord.objects.filter(link=link).count() == 2
    person = response.context["left_person"]
    assert [record.reference for record in person] == [link.left.reference, link.right.reference]
    assert response.context["right_person"] == person
    assert "are one person's applications:" in response.content.decode()


def test_a_decided_pair_cannot_be_decided_again(client: Client, fund: Fund, reviewer: User) -> None:
    link = LinkFactory(left__fund=fund)
    services.decide_link(actor=reviewer, link=link, same_person=False, note="Not them.")
    client.force_login(member_of(fund, Role.APPROVER))

    response = client.post(url("integrity_link", fund, link.pk), {"decision": "same"}, follow=True)

    assert "This link has already been decided." in response.content.decode()
    link.refresh_from_db()
    assert link.status == Link.Status.DISMISSED


def test_who_does_not_decide_reads_the_pair_without_a_form_and_may_not_post(
    client: Client, fund: Fund
) -> None:
    link = LinkFactory(left__fund=fund)
    client.force_login(member_of(fund, Role.AUDITOR))

    response = client.get(url("integrity_link", fund, link.pk))

    assert response.status_code == 200
    assert response.context["form"] is None
    forbidden = client.post(url("integrity_link", fund, link.pk), {"decision": "same"})
    assert forbidden.status_code == 403
    link.refresh_from_db()
    assert link.status == Link.Status.OPEN


def test_a_reviewer_of_the_other_fund_decides_from_their_fund(client: Client) -> None:
    programme = ProgrammeFactory()
    fund, other = FundFactory.create(programme=programme), FundFactory.create(programme=programme)
    link = LinkFactory(left__fund=fund, right__fund=other)
    client.force_login(member_of(other, Role.REVIEWER))

    response = client.post(
        url("integrity_link", other, link.pk), {"decision": "different", "note": "Namesakes."}
    )

    assert response.status_code == 302
    link.refresh_from_db()
    assert link.status == Link.Status.DISMISSED
    assert client.get(url("integrity_link", fund, link.pk)).status_code == 404


@pytest.mark.parametrize("neighbours", [1, 10])
def test_the_link_page_reads_a_bounded_number_of_queries(
    client: Client,
    fund: Fund,
    reviewer: User,
    django_assert_max_num_queries: Any,
    neighbours: int,
) -> None:
    link = LinkFactory(left__fund=fund)
    for _ in range(neighbours):
        LinkFactory(left=link.left, right=ApplicationFactory(fund=fund))
    services.decide_link(actor=reviewer, link=link, same_person=True)
    client.force_login(reviewer)

    with django_assert_max_num_queries(12):
        response = client.get(url("integrity_link", fund, link.pk))

    assert len(response.context["neighbours"]) == neighbours


# -- settings ----------------------------------------------------------------------------------


def test_the_operator_admin_changes_the_settings(client: Client, fund: Fund) -> None:
    admin = member_of(fund, Role.OPERATOR_ADMIN)
    client.force_login(admin)
    page = client.get(url("integrity_settings", fund))
    assert page.context["form"]["duplicate_threshold"].value() == Decimal("10")

    response = client.post(
        url("integrity_settings", fund),
        {
            "duplicate_threshold": "12.5",
            "listed_threshold": "6",
            "flag_shared_account": "on",
            "origin_window_minutes": "15",
            "origin_burst": "4",
        },
    )

    assert response.status_code == 302
    saved = IntegritySettings.objects.get(fund=fund)
    assert saved.duplicate_threshold == Decimal("12.5")
    assert (saved.flag_shared_account, saved.flag_shared_contact) == (True, False)
    assert (saved.origin_window_minutes, saved.origin_burst, saved.updated_by) == (15, 4, admin)


def test_a_resemblance_threshold_above_the_duplicate_one_is_refused_keeping_the_input(
    client: Client, fund: Fund
) -> None:
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))

    response = client.post(
        url("integrity_settings", fund),
        {
            "duplicate_threshold": "8",
            "listed_threshold": "9.5",
            "origin_window_minutes": "45",
            "origin_burst": "3",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "listed_threshold": ["The resemblance threshold cannot be above the duplicate threshold."]
    }
    html = response.content.decode()
    assert 'value="9.5"' in html
    assert 'value="45"' in html
    assert 'id="id_listed_threshold_error"' in html
    assert not IntegritySettings.objects.exists()


def test_only_those_who_manage_the_fund_see_its_settings(
    client: Client, fund: Fund, reviewer: User
) -> None:
    client.force_login(reviewer)

    assert client.get(url("integrity_settings", fund)).status_code == 404
    queue = client.get(url("integrity_queue", fund)).content.decode()
    assert url("integrity_settings", fund) not in queue


# -- the report and the fund's pages -----------------------------------------------------------


def test_the_report_counts_flags_pairs_and_people(
    client: Client, fund: Fund, reviewer: User
) -> None:
    confirmed = duplicate_pair(fund)
    services.decide_link(actor=reviewer, link=confirmed, same_person=True)
    LinkFactory(left__fund=fund, reasons=["email", "phone"], flagged=False)
    LinkFactory(left__fund=fund, reasons=[])
    client.force_login(reviewer)

    response = client.get(url("integrity_report", fund))

    report = response.context["report"]
    flags = {line.label: (line.raised, line.open, line.resolved) for line in report.flags}
    assert flags["Possibly the same person as another application"] == (2, 0, 2)
    assert flags["Confirmed as the same person as another application: decide only one"] == (
        2,
        2,
        0,
    )
    assert dict(report.by_status) == {"To review": 2, "Same person": 1, "Different people": 0}
    assert dict(report.by_reason) == {
        "same social security number": 0,
        "same bank account": 1,
        "same e-mail address": 1,
        "same telephone": 1,
    }
    assert report.scored_only == 1
    assert (report.people, report.people_applications, report.people_across_funds) == (1, 2, 0)


def test_the_fund_dashboard_links_to_the_possible_duplicates(
    client: Client, fund: Fund, reviewer: User
) -> None:
    client.force_login(reviewer)

    html = client.get(reverse("fund_dashboard", args=[fund.slug])).content.decode()

    assert f'href="{url("integrity_queue", fund)}"' in html


def test_the_application_page_lists_its_possible_duplicates_and_its_person(
    client: Client, fund: Fund, reviewer: User
) -> None:
    confirmed = LinkFactory(left__fund=fund)
    open_link = LinkFactory(left=confirmed.left, right__fund=fund, reasons=["email"])
    services.decide_link(actor=reviewer, link=confirmed, same_person=True)
    client.force_login(reviewer)

    response = client.get(reverse("staff_application", args=[fund.slug, confirmed.left.reference]))

    html = response.content.decode()
    assert "Possible duplicates" in html
    assert reverse("integrity_link", args=[fund.slug, open_link.pk]) in html
    assert reverse("integrity_link", args=[fund.slug, confirmed.pk]) in html
    assert "same e-mail address" in html
    assert "Confirmed as the same person as:" in html
    assert f"{confirmed.right.reference} — {fund.name}" in html


def test_the_application_panel_reads_the_same_queries_for_one_link_or_many(
    client: Client, fund: Fund, reviewer: User
) -> None:
    application: Application = ApplicationFactory(fund=fund)
    page = reverse("staff_application", args=[fund.slug, application.reference])
    client.force_login(reviewer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page).status_code == 200
        return len(captured)

    LinkFactory(left=application, right__fund=fund)
    one = queries()
    for _ in range(8):
        LinkFactory(left=application, right__fund=fund)

    assert queries() == one
