"""The back office's queues: what each lists, search, sorts, long lists' pages, assigning many
applications at once, the dashboard's counts, and the number of queries of each page."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.models import User
from entraide.applications.models import Application
from entraide.applications.selectors import ListFilters, Queue, applications_for_staff
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core import keyset
from entraide.evidence.tests.factories import (
    ApplicationVerificationFactory,
    VerificationRunFactory,
)
from entraide.funds import ledger
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.tests.factories import issued_token
from entraide.review import assignments, flags
from entraide.review.models import Assignment, SecondApproval
from entraide.rules.tests.factories import ApplicationEvaluationFactory

Role = FundRole.Role
Status = Application.Status
# Session and user, the fund and the person's roles (twice), the reviewers and partners of the
# filters, the capped count and the page, and the menu's three (back-office access): the same
# whatever the rows, queue, search or sort.
LIST_QUERIES = 12


def staff(fund: Fund, role: str) -> User:
    return FundRoleFactory.create(fund=fund, role=role).user


def list_url(fund: Fund) -> str:
    return reverse("application_list", kwargs={"slug": fund.slug})


def listed(response: Any) -> list[str]:
    return [application.reference for application in response.context["page"]]


def page_text(response: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def at(day: int, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 3, day, hour), dt.UTC)


@dataclass
class Queues:
    """One fund with one application (at least) in each queue, and one just outside it."""

    fund: Fund
    me: User
    colleague: User
    apps: dict[str, Application]

    def expected(self, queue: str) -> set[str]:
        members: dict[str, set[str]] = {
            Queue.ALL: set(self.apps),
            Queue.NEW: {"received", "contradicted", "eligible_unverified", "flagged", "mine"},
            Queue.AUTO_ELIGIBLE: {"auto"},
            Queue.MISMATCHES: {"contradicted"},
            Queue.INFO_REQUESTED: {"info"},
            Queue.FLAGGED: {"flagged", "auto_flagged"},
            Queue.WAITLIST: {"waiting_first", "waiting_second"},
            Queue.SECOND_APPROVAL: {"second"},
            Queue.MINE: {"mine"},
        }
        return {self.apps[name].reference for name in members[queue]}


@pytest.fixture
def queues(db: None) -> Queues:
    fund = FundFactory.create(budget=Decimal("0.00"))
    me, colleague = staff(fund, Role.REVIEWER), staff(fund, Role.APPROVER)
    admin = staff(fund, Role.OPERATOR_ADMIN)
    run = VerificationRunFactory.create(fund=fund)
    apps: dict[str, Application] = {}

    def make(name: str, status: str = Status.RECEIVED, **kwargs: Any) -> Application:
        apps[name] = ApplicationFactory.create(
            fund=fund, status=status, submitted_at=at(len(apps) + 1), **kwargs
        )
        return apps[name]

    make("received")
    # Eligible, and the records agree: under review or received, but not once decided.
    auto = make("auto", Status.UNDER_REVIEW)
    ApplicationEvaluationFactory.create(application=auto)
    ApplicationVerificationFactory.create(run=run, application=auto)
    decided = make("decided", Status.APPROVED)
    ApplicationEvaluationFactory.create(application=decided)
    ApplicationVerificationFactory.create(run=run, application=decided)
    contradicted = make("contradicted")
    ApplicationEvaluationFactory.create(application=contradicted)
    ApplicationVerificationFactory.create(run=run, application=contradicted, has_mismatch=True)
    ApplicationEvaluationFactory.create(application=make("eligible_unverified"))
    ineligible = make("ineligible", Status.UNDER_REVIEW)
    ApplicationEvaluationFactory.create(application=ineligible, eligible=False)
    ApplicationVerificationFactory.create(run=run, application=ineligible)
    # An earlier evaluation said eligible: only the current one counts.
    outdated = make("outdated", Status.UNDER_REVIEW)
    ApplicationEvaluationFactory.create(application=outdated, is_current=False)
    ApplicationEvaluationFactory.create(application=outdated, eligible=False)
    ApplicationVerificationFactory.create(run=run, application=outdated)
    make("info", Status.INFO_REQUESTED)
    flags.raise_flag(actor=me, application=make("flagged"), code=flags.REVIEWER, note="Check")
    # Eligible and the records agree, but flagged: someone must look at it first.
    held = make("auto_flagged", Status.UNDER_REVIEW)
    ApplicationEvaluationFactory.create(application=held)
    ApplicationVerificationFactory.create(run=run, application=held)
    flags.raise_flag(actor=me, application=held, code=flags.REVIEWER, note="Check")
    resolved = make("resolved_flag", Status.UNDER_REVIEW)
    flag = flags.raise_flag(actor=me, application=resolved, code=flags.REVIEWER, note="Check")
    flags.resolve_flag(actor=me, flag=flag, resolution="Seen")
    # The waiting list's order is the awards', not the submissions'.
    second_in_line = make("waiting_second", Status.WAITLISTED)
    first_in_line = make("waiting_first", Status.WAITLISTED)
    for application in (first_in_line, second_in_line):
        ledger.place_award(actor=admin, fund=fund, application=application, amount=Decimal(500))
    for name, status in (("second", SecondApproval.Status.PENDING), ("refused", "refused")):
        SecondApproval.objects.create(
            application=make(name, Status.UNDER_REVIEW),
            fund=fund,
            amount=Decimal(900),
            currency="EUR",
            grounds=["override"],
            status=status,
            proposed_by=colleague,
            proposed_at=timezone.now(),
        )
    # Eligible and the records agree, but an approval of it waits for a second person.
    ApplicationEvaluationFactory.create(application=apps["second"])
    ApplicationVerificationFactory.create(run=run, application=apps["second"])
    mine, theirs = make("mine"), make("theirs", Status.UNDER_REVIEW)
    assignments.assign(actor=me, fund=fund, application_ids=[mine.pk], reviewer=me)
    assignments.assign(actor=colleague, fund=fund, application_ids=[theirs.pk], reviewer=colleague)
    ApplicationFactory.create(status=Status.RECEIVED)  # another fund's
    return Queues(fund, me, colleague, apps)


# --------------------------------------------------------------------------------------------
# What each queue lists
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("queue", list(Queue))
def test_each_queue_lists_exactly_its_applications(
    client: Client, queues: Queues, queue: str
) -> None:
    client.force_login(queues.me)

    response = client.get(list_url(queues.fund), {"queue": queue})

    assert response.status_code == 200
    assert set(listed(response)) == queues.expected(queue)
    assert f'href="?queue={queue}" aria-current="page"' in response.content.decode()


def test_the_waiting_list_is_in_the_order_it_is_funded(client: Client, queues: Queues) -> None:
    client.force_login(queues.me)

    response = client.get(list_url(queues.fund), {"queue": Queue.WAITLIST})

    first, second = queues.apps["waiting_first"], queues.apps["waiting_second"]
    assert second.submitted_at < first.submitted_at
    assert listed(response) == [first.reference, second.reference]


def test_each_row_shows_the_rules_the_records_the_assignee_and_the_open_flags(
    client: Client, queues: Queues
) -> None:
    client.force_login(queues.me)

    response = client.get(list_url(queues.fund), {"q": queues.apps["contradicted"].reference})
    flagged = client.get(list_url(queues.fund), {"queue": Queue.FLAGGED})
    mine = client.get(list_url(queues.fund), {"queue": Queue.MINE})

    row = page_text(response).split("Flags", 1)[1]
    assert "Eligible · €900.00" in row
    assert "Answers contradicted" in row
    assert "1 open" in page_text(flagged).split("Flags", 1)[1]
    assert str(queues.me) in page_text(mine).split("Flags", 1)[1]


def test_the_filters_keep_the_applications_that_match_all_of_them(
    client: Client, queues: Queues
) -> None:
    fund = queues.fund
    _token, _secret = issued_token(fund=fund)
    partner = _token.partner
    by_partner = ApplicationFactory.create(fund=fund, partner=partner, applicant=None)
    artist = ApplicationFactory.create(fund=fund, profession=Application.Profession.ARTIST)
    client.force_login(queues.me)

    def references(**params: Any) -> set[str]:
        return set(listed(client.get(list_url(fund), params)))

    assert references(partner=partner.pk) == {by_partner.reference}
    assert references(profession="artist") == {artist.reference}
    assert references(assignee=queues.colleague.pk) == {queues.apps["theirs"].reference}
    unassigned = references(assignee="none")
    assert queues.apps["mine"].reference not in unassigned
    assert queues.apps["received"].reference in unassigned
    assert references(queue=Queue.NEW, status=Status.RECEIVED, assignee=queues.me.pk) == {
        queues.apps["mine"].reference
    }
    assert references(records="contradicted") == {queues.apps["contradicted"].reference}
    # A value that is not one of the choices leaves that filter out.
    assert len(references(profession="astronaut", queue="nonsense")) == len(queues.apps) + 2


# --------------------------------------------------------------------------------------------
# Search and sort
# --------------------------------------------------------------------------------------------


@pytest.fixture
def people(db: None) -> tuple[Fund, dict[str, Application]]:
    fund = FundFactory.create()
    found = {
        "helene": ApplicationFactory.create(
            fund=fund, first_name="Hélène", last_name="Dupont", email="H.Dupont@Example.org"
        ),
        "noel": ApplicationFactory.create(
            fund=fund, first_name="Noël", last_name="Lefèvre-Cœur", email="noel@example.org"
        ),
        "jean": ApplicationFactory.create(
            fund=fund, first_name="Jean", last_name="Dupuis", email="jd@example.org"
        ),
    }
    ApplicationFactory.create(first_name="Hélène", last_name="Dupont")  # another fund's
    return fund, found


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("dupon", {"helene"}),  # the start of a name
        ("pont", set()),  # not the start of any word of a name
        ("DUPONT", {"helene"}),
        ("helene", {"helene"}),  # without its accents
        ("HÉLÈNE", {"helene"}),
        ("dupont hélène", {"helene"}),  # every word, in any order
        ("lefevre-coeur", {"noel"}),  # a ligature spelled out
        ("coeur", {"noel"}),  # each part of a compound name is a word
        ("noël", {"noel"}),
        ("dup", {"helene", "jean"}),
        ("h.dup", {"helene"}),  # the start of an e-mail, case aside
        ("jd@EXAMPLE", {"jean"}),
        ("example.org", set()),  # not the start of any e-mail
        ("du", {"helene", "jean"}),
        ("d", set()),  # too short to say anything
        ("  ", {"helene", "noel", "jean"}),
    ],
)
def test_searching_finds_names_by_the_start_of_their_words_and_e_mails_by_their_start(
    people: tuple[Fund, dict[str, Application]], term: str, expected: set[str]
) -> None:
    fund, found = people
    reader = staff(fund, Role.FINANCE)

    result = applications_for_staff(reader, fund, ListFilters(search=term))

    assert {a.reference for a in result} == {found[name].reference for name in expected}


def test_searching_finds_a_reference_whole_or_by_its_start(
    people: tuple[Fund, dict[str, Application]],
) -> None:
    fund, found = people
    reader = staff(fund, Role.FINANCE)
    reference = found["jean"].reference

    def search(term: str) -> list[Application]:
        return list(applications_for_staff(reader, fund, ListFilters(search=term)))

    assert search(reference) == [found["jean"]]
    assert search(reference.lower()) == [found["jean"]]
    assert found["jean"] in search(reference[:6])
    assert search(reference[:2]) == []  # "A-" alone would be every application


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["a", "b", "c"]),
        ("oldest", ["a", "b", "c"]),
        ("newest", ["c", "b", "a"]),
        ("name", ["b", "c", "a"]),
        ("reference", ["c", "a", "b"]),
    ],
)
def test_each_sort_orders_the_list(
    client: Client, db: None, sort: str, expected: list[str]
) -> None:
    fund = FundFactory.create()
    made = {
        "a": ApplicationFactory.create(
            fund=fund, last_name="Zola", reference="A-BBBB-0000", submitted_at=at(1)
        ),
        "b": ApplicationFactory.create(
            fund=fund, last_name="Arnaud", reference="A-CCCC-0000", submitted_at=at(2)
        ),
        "c": ApplicationFactory.create(
            fund=fund, last_name="Martin", reference="A-AAAA-0000", submitted_at=at(3)
        ),
    }
    client.force_login(staff(fund, Role.REVIEWER))

    response = client.get(list_url(fund), {"sort": sort, "q": ""})

    assert listed(response) == [made[name].reference for name in expected]


# --------------------------------------------------------------------------------------------
# Long lists: counted up to a cap, walked by keyset
# --------------------------------------------------------------------------------------------


@pytest.fixture
def long_list(db: None, settings: Any, monkeypatch: Any) -> tuple[Fund, list[str]]:
    """12 applications, 2 per page, counted up to 5."""
    settings.BACKOFFICE_PAGE_SIZE = 2
    monkeypatch.setattr(keyset, "COUNT_CAP", 5)
    fund = FundFactory.create()
    # Two submitted at the same instant: the id breaks the tie, the same way every page.
    moments = [at(1 + n // 2, 10) if n < 2 else at(1 + n) for n in range(12)]
    made = [ApplicationFactory.create(fund=fund, submitted_at=moment) for moment in moments]
    return fund, [application.reference for application in made]


def _follow(response: Any, rel: str) -> dict[str, str] | None:
    match = re.search(rf'<a href="\?([^"]*)" rel="{rel}">', response.content.decode())
    if match is None:
        return None
    query = parse_qs(urlsplit("?" + match.group(1).replace("&amp;", "&")).query)
    return {name: values[0] for name, values in query.items()}


@pytest.mark.parametrize("sort", ["oldest", "newest"])
def test_the_next_and_previous_links_walk_the_whole_list_once_each_way(
    client: Client, long_list: tuple[Fund, list[str]], sort: str
) -> None:
    fund, references = long_list
    expected = references if sort == "oldest" else references[::-1]
    client.force_login(staff(fund, Role.REVIEWER))

    pages = [client.get(list_url(fund), {"sort": sort})]
    while (params := _follow(pages[-1], "next")) is not None:
        pages.append(client.get(list_url(fund), params))
    back = [pages[-1]]
    while (params := _follow(back[-1], "prev")) is not None:
        back.append(client.get(list_url(fund), params))

    assert [ref for page in pages for ref in listed(page)] == expected
    assert [ref for page in back[::-1] for ref in listed(page)] == expected
    assert [page.context["page"].number for page in pages] == [1, 2, 3, 4, 5, 6]
    assert "after" in (_follow(pages[0], "next") or {})  # a keyset link, not an offset


def test_a_list_longer_than_the_cap_says_more_than_and_offers_numbers_up_to_it(
    client: Client, long_list: tuple[Fund, list[str]]
) -> None:
    fund, references = long_list
    client.force_login(staff(fund, Role.REVIEWER))

    first = client.get(list_url(fund))
    beyond = client.get(list_url(fund), {"page": "50"})

    assert (first.context["page"].count, first.context["page"].more) == (5, True)
    assert "More than 5 applications" in page_text(first)
    assert "Page 1" in page_text(first)
    assert "Page 1 of" not in page_text(first)
    # Numbered pages go up to the cap (5 // 2 = page 2); further is by the next links.
    assert beyond.context["page"].number == 2
    assert listed(beyond) == references[2:4]


def test_a_cursor_that_is_not_one_lists_from_the_start(
    client: Client, long_list: tuple[Fund, list[str]]
) -> None:
    fund, references = long_list
    client.force_login(staff(fund, Role.REVIEWER))

    naive = dt.datetime(2026, 3, 1, 10)  # a cursor typed by hand
    for cursor in (
        "garbage",
        "W10",
        keyset.encode_cursor(["x"]),  # too few values
        keyset.encode_cursor([{}, 1]),
        keyset.encode_cursor(["2026-03-01", 1]),  # a text where the date goes
        keyset.encode_cursor([at(1), "1"]),
        keyset.encode_cursor([naive, 1]),  # a moment without its time zone
    ):
        response = client.get(list_url(fund), {"after": cursor, "sort": "newest"})
        assert response.status_code == 200
        assert listed(response) == references[::-1][:2]


def test_a_short_list_is_counted_exactly(client: Client, db: None) -> None:
    fund = FundFactory.create()
    ApplicationFactory.create_batch(3, fund=fund)
    client.force_login(staff(fund, Role.REVIEWER))

    response = client.get(list_url(fund))

    assert (response.context["page"].count, response.context["page"].more) == (3, False)
    assert "3 applications" in page_text(response)
    assert "Page 1 of 1" in page_text(response)


def test_cursors_keep_their_values_and_types() -> None:
    values = [at(3, 14).replace(microsecond=123456), 42, "Lefèvre"]

    types = [dt.datetime, int, str]

    assert keyset.decode_cursor(keyset.encode_cursor(values), types) == values
    assert keyset.decode_cursor(keyset.encode_cursor(values), types[:2]) is None
    assert keyset.decode_cursor(keyset.encode_cursor(values[::-1]), types) is None


# --------------------------------------------------------------------------------------------
# Pages keep their number of queries
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("queue", list(Queue))
@pytest.mark.parametrize(
    "params",
    [{}, {"q": "dupont", "sort": "newest"}, {"sort": "name", "assignee": "none"}],
    ids=["plain", "search-newest", "name-unassigned"],
)
def test_every_queue_keeps_its_number_of_queries_whatever_the_rows(
    client: Client,
    queues: Queues,
    django_assert_max_num_queries: Any,
    queue: str,
    params: dict[str, str],
) -> None:
    client.force_login(queues.me)
    url = list_url(queues.fund)
    with django_assert_max_num_queries(LIST_QUERIES):
        few = client.get(url, {"queue": queue, **params})
    # More of everything a row shows, in every queue.
    for application in queues.apps.values():
        flags.raise_flag(actor=queues.me, application=application, code=flags.REVIEWER, note="x")
    ApplicationFactory.create_batch(
        30, fund=queues.fund, last_name="Dupont", status=Status.UNDER_REVIEW
    )

    with django_assert_max_num_queries(LIST_QUERIES):
        many = client.get(url, {"queue": queue, **params})
    params_next = _follow(many, "next")
    if params_next is not None:
        with django_assert_max_num_queries(LIST_QUERIES):
            client.get(url, params_next)

    assert few.status_code == many.status_code == 200


def test_the_dashboard_counts_every_queue_and_the_budget_in_a_fixed_number_of_queries(
    client: Client, queues: Queues, django_assert_max_num_queries: Any
) -> None:
    client.force_login(queues.me)
    url = reverse("fund_dashboard", kwargs={"slug": queues.fund.slug})

    with django_assert_max_num_queries(16):
        response = client.get(url)

    counts = {queue: count for queue, _label, count, _more in response.context["queues"]}
    assert counts == {queue: len(queues.expected(queue)) for queue in Queue}
    text = page_text(response)
    assert "2 approved applications wait for budget (€1,000.00)" in text
    assert "1 approval waits for a second approver" in text
    assert f'href="{list_url(queues.fund)}?queue=flagged"' in response.content.decode()


# --------------------------------------------------------------------------------------------
# The dashboard's applications per day
# --------------------------------------------------------------------------------------------


def test_applications_per_day_are_counted_on_the_funds_clock_within_its_window(
    client: Client, db: None
) -> None:
    fund = FundFactory.create(
        opens_on=dt.date(2026, 3, 2), closes_on=dt.date(2026, 3, 5), time_zone="Europe/Paris"
    )
    # 23:30 UTC on the 2nd is 00:30 on the 3rd in Paris.
    for moment in (at(2, 10), at(2, 23), at(3, 9), at(5, 12)):
        ApplicationFactory.create(fund=fund, submitted_at=moment.replace(minute=30))
    ApplicationFactory.create(fund=fund, submitted_at=at(1, 12))  # before the window opened
    client.force_login(staff(fund, Role.REVIEWER))

    response = client.get(reverse("fund_dashboard", kwargs={"slug": fund.slug}))

    chart = response.context["per_day"]
    assert [(bar["day"].day, bar["count"]) for bar in chart["days"]] == [
        (2, 1),
        (3, 2),
        (4, 0),
        (5, 1),
    ]
    assert [bar["height"] for bar in chart["days"]] == [50, 100, 0, 50]
    html = response.content.decode()
    assert 'role="img"' in html
    assert "<title>" in html
    assert "4 applications since" in page_text(response)
    assert '<th scope="col">Day</th>' in html  # the table beside the chart


# --------------------------------------------------------------------------------------------
# Assigning many at once
# --------------------------------------------------------------------------------------------


def bulk_url(fund: Fund) -> str:
    return reverse("application_bulk_assign", kwargs={"slug": fund.slug})


def share_url(fund: Fund) -> str:
    return reverse("application_queue_round_robin", kwargs={"slug": fund.slug})


def assigned(fund: Fund) -> dict[int, int]:
    return dict(Assignment.objects.filter(fund=fund).values_list("application_id", "reviewer_id"))


@pytest.fixture
def bulk(db: None) -> tuple[Fund, list[Application], User, User, User]:
    fund = FundFactory.create()
    applications = [ApplicationFactory.create(fund=fund, submitted_at=at(n + 1)) for n in range(4)]
    return (
        fund,
        applications,
        staff(fund, Role.OPERATOR_ADMIN),
        staff(fund, Role.REVIEWER),
        staff(fund, Role.APPROVER),
    )


def test_the_list_offers_a_labelled_box_per_row_and_one_for_the_page(
    client: Client, bulk: tuple[Fund, list[Application], User, User, User]
) -> None:
    fund, applications, admin, _reviewer, _approver = bulk
    client.force_login(admin)

    html = client.get(list_url(fund)).content.decode()

    for application in applications:
        box = f'id="select-{application.pk}"'
        assert box in html
        assert f'<label for="select-{application.pk}" class="visually-hidden">' in html
        assert f"{application.reference}</label>" in html
    assert 'data-select-all="applications"' in html
    assert 'value="round_robin"' in html


def test_a_manager_assigns_the_ticked_applications_to_a_reviewer(
    client: Client, bulk: tuple[Fund, list[Application], User, User, User]
) -> None:
    fund, applications, admin, reviewer, _approver = bulk
    client.force_login(admin)

    response = client.post(
        bulk_url(fund),
        {
            "action": "assign",
            "applications": [applications[0].pk, applications[2].pk],
            "reviewer": reviewer.pk,
            "query": "queue=new&page=2",
        },
        follow=True,
    )

    assert response.redirect_chain[0][0] == f"{list_url(fund)}?queue=new&page=2"
    assert assigned(fund) == {applications[0].pk: reviewer.pk, applications[2].pk: reviewer.pk}
    assert "2 applications assigned to" in page_text(response)


def test_a_manager_shares_the_ticked_applications_among_the_reviewers_and_unassigns_them(
    client: Client, bulk: tuple[Fund, list[Application], User, User, User]
) -> None:
    fund, applications, admin, reviewer, approver = bulk
    client.force_login(admin)
    ids = [application.pk for application in applications]

    shared = client.post(
        bulk_url(fund), {"action": "round_robin", "applications": ids}, follow=True
    )
    after_sharing = assigned(fund)
    client.post(bulk_url(fund), {"action": "unassign", "applications": ids[:3]})

    assert sorted(after_sharing.values()) == sorted([reviewer.pk, approver.pk] * 2)
    assert "4 applications shared among 2 reviewers" in page_text(shared)
    assert list(assigned(fund)) == [ids[3]]


def test_a_reviewer_takes_applications_for_themselves_but_not_for_others(
    client: Client, bulk: tuple[Fund, list[Application], User, User, User]
) -> None:
    fund, applications, _admin, reviewer, approver = bulk
    client.force_login(reviewer)
    page = client.get(list_url(fund)).content.decode()

    taken = client.post(
        bulk_url(fund),
        {"action": "assign", "applications": [applications[0].pk], "reviewer": reviewer.pk},
    )
    refused = client.post(
        bulk_url(fund),
        {"action": "assign", "applications": [applications[1].pk], "reviewer": approver.pk},
        follow=True,
    )
    shared = client.post(
        bulk_url(fund),
        {"action": "round_robin", "applications": [applications[2].pk]},
        follow=True,
    )

    assert "Assign to me" in page
    assert 'value="round_robin"' not in page
    assert taken.status_code == 302
    assert assigned(fund) == {applications[0].pk: reviewer.pk}
    assert refused.status_code == shared.status_code == 200  # told why, on the list
    assert "You do not have permission to do this." in page_text(refused)
    assert "You do not have permission to do this." in page_text(shared)


def test_applications_of_another_fund_are_left_alone(
    client: Client, bulk: tuple[Fund, list[Application], User, User, User]
) -> None:
    fund, applications, admin, reviewer, _approver = bulk
    elsewhere = ApplicationFactory.create()
    client.force_login(admin)

    client.post(
        bulk_url(fund),
        {
            "action": "assign",
            "applications": [elsewhere.pk, applications[0].pk],
            "reviewer": reviewer.pk,
        },
    )

    assert not Assignment.objects.filter(application=elsewhere).exists()
    assert assigned(fund) == {applications[0].pk: reviewer.pk}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "assign", "reviewer": ""}, "Tick at least one application."),
        ({"action": "assign", "applications": ["1"]}, "Choose the reviewer to assign them to."),
        ({"action": "unassign", "applications": ["x"]}, "These applications are not in the list."),
    ],
)
def test_an_incomplete_selection_is_explained_on_the_list(
    client: Client,
    bulk: tuple[Fund, list[Application], User, User, User],
    data: dict[str, Any],
    message: str,
) -> None:
    fund, _applications, admin, _reviewer, _approver = bulk
    client.force_login(admin)

    response = client.post(bulk_url(fund), data, follow=True)

    assert response.status_code == 200
    assert message in page_text(response)
    assert not assigned(fund)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.FINANCE])
def test_those_who_only_read_cannot_assign(
    client: Client, bulk: tuple[Fund, list[Application], User, User, User], role: str
) -> None:
    fund, applications, _admin, reviewer, _approver = bulk
    client.force_login(staff(fund, role))
    data = {"action": "assign", "applications": [applications[0].pk], "reviewer": reviewer.pk}

    page = client.get(list_url(fund)).content.decode()
    response = client.post(bulk_url(fund), data)
    sharing = client.post(share_url(fund), {"confirmed": "1"})

    assert 'name="applications"' not in page
    assert response.status_code == 403
    assert sharing.status_code == 404
    assert not assigned(fund)


def test_a_reviewer_of_another_fund_cannot_assign_here(
    client: Client, bulk: tuple[Fund, list[Application], User, User, User]
) -> None:
    fund, applications, _admin, reviewer, _approver = bulk
    client.force_login(staff(FundFactory.create(), Role.OPERATOR_ADMIN))
    data = {"action": "assign", "applications": [applications[0].pk], "reviewer": reviewer.pk}

    assert client.post(bulk_url(fund), data).status_code == 404
    assert client.post(share_url(fund), {"confirmed": "1"}).status_code == 404
    assert not assigned(fund)


def test_a_manager_shares_a_whole_queue_after_a_summary(
    client: Client, bulk: tuple[Fund, list[Application], User, User, User]
) -> None:
    fund, applications, admin, reviewer, approver = bulk
    Application.objects.filter(pk=applications[3].pk).update(status=Status.INFO_REQUESTED)
    assignments.assign(
        actor=admin, fund=fund, application_ids=[applications[0].pk], reviewer=reviewer
    )
    client.force_login(admin)

    summary = client.get(share_url(fund), {"queue": "new"})
    done = client.post(f"{share_url(fund)}?queue=new", {"confirmed": "1"}, follow=True)

    assert summary.status_code == 200
    assert summary.context["count"] == 3  # the new ones: the one asked for information is not
    assert "Share 3 applications" in page_text(summary)
    assert str(reviewer) in page_text(summary)
    assert str(approver) in page_text(summary)
    assert done.redirect_chain[0][0] == f"{list_url(fund)}?queue=new"
    # The one already assigned stays with its reviewer; the two others are shared out.
    assert assigned(fund)[applications[0].pk] == reviewer.pk
    assert {assigned(fund)[applications[1].pk], assigned(fund)[applications[2].pk]} == {
        reviewer.pk,
        approver.pk,
    }
    assert applications[3].pk not in assigned(fund)


def test_sharing_a_queue_shows_the_summary_again_until_confirmed(
    client: Client, bulk: tuple[Fund, list[Application], User, User, User]
) -> None:
    fund, _applications, admin, _reviewer, _approver = bulk
    client.force_login(admin)

    response = client.post(share_url(fund), {})

    assert response.status_code == 200
    assert not assigned(fund)


def test_a_whole_queue_is_shared_up_to_the_limit(
    client: Client,
    bulk: tuple[Fund, list[Application], User, User, User],
    monkeypatch: Any,
) -> None:
    from entraide.review import bulk_views

    fund, applications, admin, _reviewer, _approver = bulk
    monkeypatch.setattr(bulk_views, "WHOLE_QUEUE_LIMIT", 3)
    client.force_login(admin)

    summary = client.get(share_url(fund))
    client.post(share_url(fund), {"confirmed": "1"})

    assert (summary.context["count"], summary.context["more"]) == (3, True)
    assert "the first 3 of the list" in page_text(summary)
    assert set(assigned(fund)) == {application.pk for application in applications[:3]}
