"""The crew relief pages: who gets what, forms that keep what was typed, the four eyes on the
page, query bounds; crew relief funds take no application; the roll-up names them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.applications import services as application_services
from entraide.applications.models import Application
from entraide.applications.tests.factories import submission_data
from entraide.core.errors import NotFound, ValidationFailed
from entraide.crew import relief
from entraide.crew.models import Payout, ReliefRun
from entraide.crew.tests.relief_helpers import World
from entraide.funds import services as fund_services
from entraide.funds.models import BudgetEntry, Fund, FundRole
from entraide.funds.tests.factories import FundRoleFactory
from entraide.intake import services as intake_services
from entraide.intake.tests.conftest import PartnerClient, application_body
from entraide.intake.tests.factories import PartnerFactory, issued_token
from entraide.programmes import services as programme_services
from entraide.programmes.models import ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.rules.tests.factories import RuleSetVersionFactory

pytestmark = pytest.mark.django_db


class Pages(World):
    """The world, a run of two productions proposed by the second manager, and one person
    per actor of the table below."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.paris = self.production("FR-001", title="Les Studios")
        self.london = self.production("UK-001", currency="GBP", title="The Lot")
        self.crew(self.paris, first_name="Zéphyrine", last_name="Quintavalle")
        self.crew(self.london)
        self.run = relief.propose_run(
            actor=self.second, programme=self.programme, productions=[self.paris, self.london]
        )
        self.payout = self.run.payouts.order_by("pk").first()
        other_manager = UserFactory.create()
        programme_services.grant_programme_role(
            actor=self.operator,
            programme=ProgrammeFactory.create(),
            user=other_manager,
            role=ProgrammeRole.Role.MANAGER,
        )
        self.actors: dict[str, User | None] = {
            "anonymous": None,
            "applicant": UserFactory.create(),
            "operator": self.operator,
            "manager": self.manager,
            "donor": self.donor,
            "fund_reviewer": FundRoleFactory.create(
                fund=self.france, role=FundRole.Role.REVIEWER
            ).user,
            "other_manager": other_manager,
        }


@pytest.fixture
def pages() -> Pages:
    return Pages()


def page_text(response: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# --------------------------------------------------------------------------------------------
# Who gets what
# --------------------------------------------------------------------------------------------

ACTORS = (
    "anonymous",
    "applicant",
    "operator",
    "manager",
    "donor",
    "fund_reviewer",
    "other_manager",
)
OK, GO, IN, NO, NF, NA = 200, "302", "302 to login", 403, 404, 405

# fmt: off
MATRIX: list[tuple[str, str, tuple[int | str, ...]]] = [
    #                                   ano  app  opr  mgr  don  rev  oth
    ("get",    "crew_settings",         (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    # An empty form: shown again with its errors.
    ("post",   "crew_settings",         (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("delete", "crew_settings",         (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("get",    "crew_runs",             (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("post",   "crew_runs",             (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("get",    "crew_run",              (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("post",   "crew_run",              (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    # The run was proposed by the second manager: the operator and the manager approve it.
    ("post",   "crew_run_approve",      (IN,  NO,  GO,  GO,  NO,  NF,  NF)),
    ("get",    "crew_run_approve",      (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    # Without a note: the run's page again, with the error.
    ("post",   "crew_run_reject",       (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("get",    "crew_run_reject",       (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("post",   "crew_payout_exclude",   (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("get",    "crew_payout_exclude",   (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    # Not left out: refused with a message above the run's page.
    ("post",   "crew_payout_include",   (IN,  NO,  GO,  GO,  NO,  NF,  NF)),
    ("get",    "crew_payout_include",   (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
]
# fmt: on


def url_of(name: str, pages: Pages) -> str:
    kwargs: dict[str, Any] = {"slug": pages.programme.slug}
    if name.startswith(("crew_run_", "crew_payout_")) or name == "crew_run":
        kwargs["reference"] = pages.run.reference
    if name.startswith("crew_payout_"):
        assert pages.payout is not None
        kwargs["payout_id"] = pages.payout.pk
    return reverse(name, kwargs=kwargs)


def _cases() -> Iterator[Any]:
    for method, name, expectations in MATRIX:
        for actor, expected in zip(ACTORS, expectations, strict=True):
            yield pytest.param(method, name, actor, expected, id=f"{method}-{name}-{actor}")


@pytest.mark.parametrize(("method", "name", "actor", "expected"), list(_cases()))
def test_each_actor_gets_the_expected_answer(
    client: Client, pages: Pages, method: str, name: str, actor: str, expected: int | str
) -> None:
    user = pages.actors[actor]
    if user is not None:
        client.force_login(user)

    response = getattr(client, method)(url_of(name, pages))

    if expected == IN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login") + "?next=")
    elif expected == GO:
        assert response.status_code == 302
        assert response["Location"].startswith(url_of("crew_run", pages))
    else:
        assert response.status_code == expected


def test_a_run_of_another_programme_is_not_found(client: Client, pages: Pages) -> None:
    other = ProgrammeFactory.create(slug="other")
    client.force_login(pages.operator)

    response = client.get(
        reverse("crew_run", kwargs={"slug": other.slug, "reference": pages.run.reference})
    )

    assert response.status_code == 404


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


def test_the_settings_page_saves_and_keeps_what_was_typed_on_error(
    client: Client, pages: Pages
) -> None:
    client.force_login(pages.manager)
    url = reverse("crew_settings", kwargs={"slug": pages.programme.slug})

    refused = client.post(url, {"weeks": "60", "days_per_week": "5", "cap": "1234.50"})

    assert refused.status_code == 200
    assert list(refused.context["form"].errors) == ["weeks"]
    html = refused.content.decode()
    assert 'value="60"' in html
    assert 'value="1234.50"' in html
    assert 'aria-invalid="true"' in html

    saved = client.post(
        url, {"weeks": "3", "days_per_week": "6", "cap": "", "several_productions": "on"}
    )

    assert saved.status_code == 302
    current = relief.settings_of(pages.programme)
    assert (current.weeks, current.days_per_week, current.cap, current.several_productions) == (
        3,
        6,
        None,
        True,
    )


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


def test_proposing_a_run_from_the_page_leads_to_it(client: Client, pages: Pages) -> None:
    newcomer = pages.crew(pages.paris)
    client.force_login(pages.manager)

    response = client.post(
        reverse("crew_runs", kwargs={"slug": pages.programme.slug}),
        {"productions": [str(pages.paris.pk)]},
    )

    run = ReliefRun.objects.exclude(pk=pages.run.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "crew_run", kwargs={"slug": pages.programme.slug, "reference": run.reference}
    )
    assert list(run.payouts.values_list("crew_member", flat=True)) == [newcomer.pk]


def test_a_proposal_without_a_production_is_refused_on_the_form(
    client: Client, pages: Pages
) -> None:
    client.force_login(pages.manager)

    response = client.post(reverse("crew_runs", kwargs={"slug": pages.programme.slug}), {})

    assert response.status_code == 200
    assert response.context["form"].errors["productions"] == ["Choose at least one production."]
    assert ReliefRun.objects.count() == 1


def test_a_proposal_with_nothing_left_to_pay_keeps_the_productions_chosen(
    client: Client, pages: Pages
) -> None:
    client.force_login(pages.manager)

    response = client.post(
        reverse("crew_runs", kwargs={"slug": pages.programme.slug}),
        {"productions": [str(pages.paris.pk)]},
    )

    assert response.status_code == 200
    assert "nothing to propose" in page_text(response)
    checked = f'value="{pages.paris.pk}" id="id_productions_0" checked'
    assert checked in response.content.decode()


def test_the_runs_page_lists_the_runs_and_productions_with_what_is_paid(
    client: Client, pages: Pages
) -> None:
    client.force_login(pages.manager)

    response = client.get(reverse("crew_runs", kwargs={"slug": pages.programme.slug}))

    text = page_text(response)
    assert pages.run.reference in text
    assert "FR-001 — Les Studios FR EUR" in text
    assert "€2,400.00" in text
    assert "£2,400.00" in text
    assert "Crew relief — France (EUR)" in text


@pytest.mark.parametrize("runs", [2, 12])
def test_the_runs_page_reads_a_fixed_number_of_queries(
    client: Client, pages: Pages, django_assert_max_num_queries: Any, runs: int
) -> None:
    for n in range(runs):
        shoot = pages.production(f"EXTRA-{n}")
        pages.crew(shoot)
        relief.propose_run(actor=pages.manager, programme=pages.programme, productions=[shoot])
    client.force_login(pages.manager)

    with django_assert_max_num_queries(14):
        response = client.get(reverse("crew_runs", kwargs={"slug": pages.programme.slug}))

    assert len(response.context["rows"]) == runs + 1


# --------------------------------------------------------------------------------------------
# A run
# --------------------------------------------------------------------------------------------


def test_the_run_page_shows_totals_funds_budgets_and_payouts(client: Client, pages: Pages) -> None:
    client.force_login(pages.manager)

    response = client.get(url_of("crew_run", pages))

    text = page_text(response)
    assert "Waiting for a second person" in text
    assert "Crew relief — France 1 €2,400.00 €100,000.00 — —" in text
    assert "Crew relief — UK 1 £2,400.00 £100,000.00 — —" in text
    assert "Zéphyrine Quintavalle" in text
    assert "Approve the run" in text


def test_the_run_page_says_what_would_wait_for_budget(client: Client, pages: Pages) -> None:
    BudgetEntry.objects.filter(fund=pages.uk).delete()  # nothing credited
    client.force_login(pages.manager)

    response = client.get(url_of("crew_run", pages))

    (uk,) = [line for line in response.context["funds"] if line.fund == pages.uk]
    assert (uk.would_wait, uk.would_wait_total) == (1, Decimal("2400.00"))


def test_the_proposer_is_told_another_manager_decides(client: Client, pages: Pages) -> None:
    client.force_login(pages.second)

    page = client.get(url_of("crew_run", pages))
    refused = client.post(url_of("crew_run_approve", pages), follow=True)

    assert "another manager of the programme approves or rejects it" in page_text(page)
    assert "Approve the run" not in page_text(page)
    assert "you proposed it (four eyes)" in page_text(refused)
    pages.run.refresh_from_db()
    assert pages.run.status == ReliefRun.Status.PROPOSED


def test_approving_from_the_page(
    client: Client, pages: Pages, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(pages.manager)
    reviewed = client.get(url_of("crew_run", pages)).context["reviewed"]

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            url_of("crew_run_approve", pages), {"reviewed": reviewed}, follow=True
        )

    pages.run.refresh_from_db()
    assert (pages.run.status, pages.run.decided_by) == (ReliefRun.Status.APPROVED, pages.manager)
    assert "is approved: its grants are being made" in page_text(response)
    assert "Grants made 0 of 2" in page_text(response)


def test_a_run_changed_since_the_approver_read_it_is_not_approved(
    client: Client, pages: Pages, django_capture_on_commit_callbacks: Any
) -> None:
    # The proposer leaves a payout out, the approver reads the run, the proposer puts it back:
    # approving what was read must not pay what was not.
    relief.exclude_payout(actor=pages.second, payout=pages.payout, note="To check")
    client.force_login(pages.manager)
    reviewed = client.get(url_of("crew_run", pages)).context["reviewed"]
    relief.include_payout(actor=pages.second, payout=pages.payout)

    stale = client.post(url_of("crew_run_approve", pages), {"reviewed": reviewed}, follow=True)
    unread = client.post(url_of("crew_run_approve", pages), follow=True)

    pages.run.refresh_from_db()
    assert pages.run.status == ReliefRun.Status.PROPOSED
    assert "were left out or put back since you read it" in page_text(stale)
    assert "were left out or put back since you read it" in page_text(unread)
    reviewed = client.get(url_of("crew_run", pages)).context["reviewed"]
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url_of("crew_run_approve", pages), {"reviewed": reviewed})
    pages.run.refresh_from_db()
    assert pages.run.status == ReliefRun.Status.APPROVED


def test_rejecting_from_the_page_needs_a_note_kept_on_error(client: Client, pages: Pages) -> None:
    client.force_login(pages.manager)

    refused = client.post(url_of("crew_run_reject", pages), {"note": "  "})
    rejected = client.post(url_of("crew_run_reject", pages), {"note": "Wrong day's rates"})

    assert refused.status_code == 200
    assert list(refused.context["reject_form"].errors) == ["note"]
    assert rejected.status_code == 302
    pages.run.refresh_from_db()
    assert (pages.run.status, pages.run.note) == (ReliefRun.Status.REJECTED, "Wrong day's rates")


def test_leaving_a_payout_out_and_putting_it_back_from_the_page(
    client: Client, pages: Pages
) -> None:
    payout = pages.payout
    assert payout is not None
    client.force_login(pages.manager)
    field = f"payout-{payout.pk}-note"

    refused = client.post(url_of("crew_payout_exclude", pages), {field: ""})
    assert refused.status_code == 200
    assert f'id="id_{field}_error"' in refused.content.decode()

    left_out = client.post(url_of("crew_payout_exclude", pages), {field: "Never on set"})
    assert left_out.status_code == 302
    payout.refresh_from_db()
    assert (payout.status, payout.note) == (Payout.Status.EXCLUDED, "Never on set")
    assert "Put back" in page_text(client.get(url_of("crew_run", pages)))

    client.post(url_of("crew_payout_include", pages))
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PROPOSED


def test_the_payouts_are_filtered_by_status_and_production(client: Client, pages: Pages) -> None:
    client.force_login(pages.manager)
    url = url_of("crew_run", pages)

    london = client.get(url, {"production": pages.london.pk})
    excluded = client.get(url, {"status": "excluded"})

    assert [p.production for p, _form in london.context["rows"]] == [pages.london]
    assert excluded.context["rows"] == []


@pytest.mark.parametrize("crew_count", [3, 40])
def test_the_run_page_reads_a_fixed_number_of_queries(
    client: Client, pages: Pages, django_assert_max_num_queries: Any, crew_count: int
) -> None:
    shoot = pages.production("FR-BIG")
    for _ in range(crew_count):
        pages.crew(shoot)
    run = relief.propose_run(actor=pages.manager, programme=pages.programme, productions=[shoot])
    client.force_login(pages.operator)

    with django_assert_max_num_queries(18):
        response = client.get(
            reverse("crew_run", kwargs={"slug": pages.programme.slug, "reference": run.reference})
        )

    assert len(response.context["rows"]) == crew_count


# --------------------------------------------------------------------------------------------
# Crew relief funds
# --------------------------------------------------------------------------------------------


def test_a_crew_relief_fund_has_no_public_page_nor_applications(
    client: Client, pages: Pages
) -> None:
    client.force_login(pages.actors["applicant"])
    slug = pages.france.slug

    assert client.get(reverse("fund_page", kwargs={"slug": slug})).status_code == 404
    assert client.get(reverse("fund_self_check", kwargs={"slug": slug})).status_code == 404
    assert client.get(reverse("apply", kwargs={"slug": slug})).status_code == 404
    assert pages.france not in client.get(reverse("home")).context["funds"]


def test_a_partner_cannot_apply_to_a_crew_relief_fund_through_the_api(
    client: Client, pages: Pages
) -> None:
    RuleSetVersionFactory.create(rule_set__fund=pages.france)
    token, raw = issued_token(fund=pages.france)
    partner = PartnerClient(client, token, raw)

    assert partner.get("").status_code == 404
    assert partner.submit(application_body()).status_code == 404
    assert partner.get("/applications").status_code == 404
    assert not Application.objects.filter(fund=pages.france).exists()


def test_no_one_submits_to_a_crew_relief_fund_nor_gets_a_partner_token_for_it(
    pages: Pages,
) -> None:
    """The services refuse it too, whatever page or API call would try it."""
    applicant = UserFactory.create()
    with pytest.raises(NotFound):
        application_services.submit_application(
            actor=applicant,
            fund=pages.france,
            idempotency_key="key",
            data=submission_data(),
        )
    with pytest.raises(ValidationFailed) as refused:
        intake_services.issue_token(
            actor=pages.operator, partner=PartnerFactory.create(), fund=pages.france
        )
    assert refused.value.field == "fund"
    assert not Application.objects.filter(fund=pages.france).exists()


def test_an_operator_creates_a_crew_relief_fund_of_a_programme(
    client: Client, pages: Pages
) -> None:
    client.force_login(pages.operator)
    today = timezone.localdate()
    data = {
        "name": "Crew relief — US",
        "slug": "crew-relief-us",
        "currency": "USD",
        "budget": "50000.00",
        "standard_amount": "2000.00",
        "opens_on": today.isoformat(),
        "opening_time": "00:00",
        "closes_on": (today + dt.timedelta(days=90)).isoformat(),
        "closing_time": "23:59",
        "time_zone": "America/New_York",
        "kind": Fund.Kind.CREW_RELIEF,
    }

    refused = client.post(reverse("fund_create"), data)
    created = client.post(reverse("fund_create"), {**data, "programme_id": pages.programme.pk})

    assert refused.status_code == 200
    assert list(refused.context["form"].errors) == ["programme_id"]
    assert 'value="crew-relief-us"' in refused.content.decode()
    assert created.status_code == 302
    fund = Fund.objects.get(slug="crew-relief-us")
    assert (fund.kind, fund.programme) == (Fund.Kind.CREW_RELIEF, pages.programme)


def test_a_fund_goes_only_into_a_programme_its_creator_manages(pages: Pages) -> None:
    creator = UserFactory.create()
    creator.user_permissions.add(Permission.objects.get(codename="add_fund"))
    creator = User.objects.get(pk=creator.pk)  # its permissions read afresh

    with pytest.raises(ValidationFailed) as refused:
        fund_services.create_fund(
            actor=creator,
            name="Not theirs",
            slug="not-theirs",
            currency="EUR",
            budget=Decimal("1.00"),
            standard_amount=Decimal("1.00"),
            opens_on=timezone.localdate(),
            closes_on=timezone.localdate(),
            programme_id=pages.programme.pk,
        )

    assert refused.value.field == "programme_id"
    assert not Fund.objects.filter(slug="not-theirs").exists()


def test_the_rollup_names_the_crew_relief_funds(client: Client, pages: Pages) -> None:
    client.force_login(pages.manager)

    response = client.get(reverse("programme_rollup", kwargs={"slug": pages.programme.slug}))

    text = page_text(response)
    assert "Crew relief — France (crew relief)" in text
    assert "Crew relief — UK (crew relief)" in text
